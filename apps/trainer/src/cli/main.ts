#!/usr/bin/env node
// The `sbm` command: the process around runCli (arguments, exit code, stop signals).
import { runCli } from './run-cli.js';

const controller = new AbortController();
let stops = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stops++;
    if (stops > 1) process.exit(130); // a second Ctrl-C: leave at once
    process.stderr.write(`\nsbm: ${signal} received; stopping after this step (with a checkpoint) …\n`);
    controller.abort(new Error(signal));
  });
}
process.exitCode = await runCli(process.argv.slice(2), { signal: controller.signal });
