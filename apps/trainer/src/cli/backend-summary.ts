import type { BackendReport } from '@sbm/backend';

/** The first clause of a reason: up to its first `' ('`, `': '` or `'; '`. */
function firstClause(reason: string): string {
  const cut = [' (', ': ', '; '].map((s) => reason.indexOf(s)).filter((i) => i > 0);
  return cut.length > 0 ? reason.slice(0, Math.min(...cut)) : reason;
}

/**
 * One short line for people about the backend @sbm/backend chose: its name, threads and fast kernels, and
 * the better backends passed over with the first clause of each reason. The full paragraph
 * (`report.message`, with the raw loader errors) is for logs and `sbm doctor`, not for every run's first line.
 */
export function backendSummary(
  report: Pick<BackendReport, 'backendName' | 'choice' | 'threads' | 'fastKernels' | 'candidates'>,
): string {
  const parts = [report.choice === 'tensorflow-gpu' ? 'tensorflow (GPU)' : report.backendName];
  if (report.threads !== undefined) parts.push(`${report.threads} thread${report.threads === 1 ? '' : 's'}`);
  if (report.fastKernels.length > 0)
    parts.push(`${report.fastKernels.length} fast kernels from @sbm/backend`);
  const skipped = report.candidates.filter((c) => !c.available && c.choice !== report.choice);
  const passed =
    skipped.length === 0
      ? ''
      : `; passed over ${skipped.map((c) => `${c.choice} (${firstClause(c.reason)})`).join(', ')} — \`sbm doctor\` explains`;
  return `backend: ${parts.join(', ')}${passed}`;
}
