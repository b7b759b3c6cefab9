#!/usr/bin/env node
// Usage: node src/cli.js [--lines] [--words] [FILE...]
// Counts the lines and words of each FILE, or of standard input.
import { readFileSync } from 'node:fs';
import { parseArgs, report } from './report.js';

try {
  const { fields, files } = parseArgs(process.argv.slice(2));
  const inputs = files.length === 0 ? [{ text: readFileSync(0, 'utf8') }] : files.map((name) => ({ name, text: read(name) }));
  process.stdout.write(report(inputs, fields));
} catch (error) {
  console.error(`word-count: ${error.message}`);
  process.exitCode = 2;
}

function read(name) {
  try {
    return readFileSync(name, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error(`no such file: ${name}`);
    throw error;
  }
}
