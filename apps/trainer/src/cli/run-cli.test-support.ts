import { Reporter } from './progress.js';
import { runCli } from './run-cli.js';

/** Runs the CLI in this process and captures what it prints. */
export async function sbm(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    out: { write: (s: string) => out.push(s) },
    err: { write: (s: string) => err.push(s) },
    env: {},
  });
  return { code, out: out.join(''), err: err.join('') };
}

/** The events of `--jsonl` output, one JSON object a line. */
export const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A reporter that prints nothing. */
export const quietReporter = (): Reporter => new Reporter({ mode: 'quiet', err: { write: () => true } });

/** A quiet reporter that aborts `controller` once `step` steps are done (trainRun checks the signal after every step). */
export function stopAfterStep(step: number, controller: AbortController): Reporter {
  const reporter = quietReporter();
  const update = reporter.update.bind(reporter);
  reporter.update = (done, metrics) => {
    update(done, metrics);
    if (done === step) controller.abort();
  };
  return reporter;
}
