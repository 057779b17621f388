import { setupBackend } from '@sbm/backend';
import { describe, expect, it } from 'vitest';
import { backendSummary } from './backend-summary.js';

describe('backendSummary', () => {
  it('puts the backend @sbm/backend really chose here on one short line, naming what it passed over', async () => {
    const report = await setupBackend({ prefer: 'auto', importModule: (name) => import(name) });
    const line = backendSummary(report);
    expect(
      line.startsWith(
        `backend: ${report.choice === 'tensorflow-gpu' ? 'tensorflow (GPU)' : report.backendName}`,
      ),
    ).toBe(true);
    expect(line).not.toMatch(/\n/);
    expect(line.length).toBeLessThan(report.message.length);
    for (const c of report.candidates.filter((c) => !c.available)) expect(line).toContain(`${c.choice} (`);
  });

  it('keeps the first clause of each reason and counts threads and kernels', () => {
    const line = backendSummary({
      backendName: 'wasm',
      choice: 'wasm',
      threads: 2,
      fastKernels: ['Conv2D', 'Sum'],
      candidates: [
        {
          choice: 'tensorflow-gpu',
          available: false,
          reason:
            'the native binding did not load (libtensorflow missing): The Node.js native addon …\nPlease run …',
        },
        { choice: 'tensorflow', available: false, reason: '@tensorflow/tfjs-node is not installed: add it' },
        { choice: 'wasm', available: true, reason: 'loaded' },
      ],
    });
    expect(line).toBe(
      'backend: wasm, 2 threads, 2 fast kernels from @sbm/backend; passed over tensorflow-gpu (the native binding did not load), tensorflow (@tensorflow/tfjs-node is not installed) — `sbm doctor` explains',
    );
    expect(
      backendSummary({ backendName: 'cpu', choice: 'cpu', threads: 1, fastKernels: [], candidates: [] }),
    ).toBe('backend: cpu, 1 thread');
  });
});
