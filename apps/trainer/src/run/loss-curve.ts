import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { writeFileAtomic } from '../checkpoint/atomic-file.js';

/** One point of the loss curve. */
export interface LossPoint {
  step: number;
  loss: number;
}

/**
 * The training loss against the step as an SVG line chart (vega-lite, rendered by vega without a browser),
 * log-scaled loss axis. Non-finite or non-positive losses are left out (a log axis cannot show them).
 */
export async function lossCurveSvg(points: readonly LossPoint[], title = 'training loss'): Promise<string> {
  const values = points.filter((p) => Number.isFinite(p.loss) && p.loss > 0 && Number.isFinite(p.step));
  if (values.length === 0) throw new Error('points: expected at least one finite, positive loss');
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 480,
    height: 240,
    data: { values },
    mark: { type: 'line', point: values.length < 40 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { type: 'log' } },
    },
  }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Reads `<runDir>/metrics.jsonl` and writes `<runDir>/loss.svg` (atomically). */
export async function writeLossCurve(runDir: string): Promise<string> {
  const text = await readFile(join(runDir, 'metrics.jsonl'), 'utf8');
  const points = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        const { step, loss } = JSON.parse(l) as LossPoint;
        return { step, loss };
      } catch {
        throw new Error(`${join(runDir, 'metrics.jsonl')}: line ${i + 1} is not JSON`);
      }
    });
  const svg = await lossCurveSvg(points);
  const file = join(runDir, 'loss.svg');
  await writeFileAtomic(file, async (handle) => {
    await handle.writeFile(svg);
  });
  return file;
}
