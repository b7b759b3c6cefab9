// Preloaded with `node --require` by run-graph.mjs: prints the process's
// peak RSS (ru_maxrss, KB on Linux) at exit. CommonJS, not an ES module
// given to --import: that would load the ES module loader early and add
// several MB to the very figure it measures.
process.on('exit', () => process.stderr.write(`spx-bench-rss ${process.resourceUsage().maxRSS}\n`));
