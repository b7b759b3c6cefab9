#!/usr/bin/env node
// Usage: node src/cli.js NAME [LANG]
import { greet } from './greet.js';

const [name, lang] = process.argv.slice(2);
try {
  console.log(greet(name, lang));
} catch (error) {
  console.error(`hello: ${error.message}`);
  process.exitCode = 2;
}
