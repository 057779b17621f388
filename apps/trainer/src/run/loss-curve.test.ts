import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lossCurveSvg, writeLossCurve } from './loss-curve.js';

/** The vertices of the chart's line: the `d` path of its line mark, as [x, y] pairs. */
function lineVertices(svg: string): [number, number][] {
  const d = /class="mark-line[^"]*"[^>]*>\s*<path[^>]*\bd="([^"]+)"/.exec(svg)?.[1];
  if (!d) throw new Error('no line mark in the SVG');
  return [...d.matchAll(/[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('loss curve', () => {
  it('draws one vertex per step, x increasing with the step and y (log scale) rising as the loss falls', async () => {
    const points = [1, 2, 3, 4, 5, 6, 7, 8].map((step) => ({ step, loss: 2 / step }));
    const svg = await lossCurveSvg(points);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('>step<');
    expect(svg).toContain('>loss<');
    const v = lineVertices(svg);
    expect(v).toHaveLength(8);
    for (let i = 1; i < v.length; i++) {
      expect(v[i]![0]).toBeGreaterThan(v[i - 1]![0]);
      expect(v[i]![1]).toBeGreaterThan(v[i - 1]![1]); // SVG y grows downwards
    }
    // on a log axis, equal loss ratios are equal heights: 2/1 → 2/2 → 2/4 → 2/8 halve each time
    const h = (a: number, b: number) => v[b - 1]![1] - v[a - 1]![1];
    expect(h(1, 2)).toBeCloseTo(h(2, 4), 0);
    expect(h(2, 4)).toBeCloseTo(h(4, 8), 0);
  });

  it('leaves out non-finite losses and names an empty curve', async () => {
    const v = lineVertices(
      await lossCurveSvg([
        { step: 1, loss: 1 },
        { step: 2, loss: Number.NaN },
        { step: 3, loss: 0.5 },
      ]),
    );
    expect(v).toHaveLength(2);
    await expect(lossCurveSvg([{ step: 1, loss: Number.NaN }])).rejects.toThrow(
      /^points: expected at least one/,
    );
  });

  it('writes loss.svg from a run directory`s metrics.jsonl', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sbm-loss-'));
    try {
      await writeFile(
        join(dir, 'metrics.jsonl'),
        `${JSON.stringify({ step: 1, loss: 0.9 })}\n${JSON.stringify({ step: 2, loss: 0.4 })}\n`,
      );
      const file = await writeLossCurve(dir);
      expect(lineVertices(await readFile(file, 'utf8'))).toHaveLength(2);
      await writeFile(join(dir, 'metrics.jsonl'), '{"step": 1, "loss": 0.9}\nnot json\n');
      await expect(writeLossCurve(dir)).rejects.toThrow(/metrics\.jsonl: line 2 is not JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
