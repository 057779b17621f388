#!/usr/bin/env node
// The `sbm-metrics` command: the process around runMetricsCli (arguments, exit code, Ctrl-C).
import { runMetricsCli } from './run-cli.js';

const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write('\nsbm-metrics: stopping after this batch …\n');
  controller.abort(new Error('stopped by SIGINT'));
});
process.exitCode = await runMetricsCli(process.argv.slice(2), { signal: controller.signal });
