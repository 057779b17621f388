import { createRequire } from 'node:module';
import { createRng, expectNoLeaks, expectTensorsClose } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomCase, runCase } from './conv-cases.test-support.js';
import { registerFastKernels, unregisterFastKernels } from './fast-kernels.js';
import { type BackendReport, setupBackend } from './setup-backend.js';
import { trainSmallUnet } from './training.test-support.js';

// This file's process (vitest runs each file in its own fork) initializes wasm with two threads;
// the other test files use tfjs's own single-threaded initialization.
const require = createRequire(import.meta.url);
const workerThreads = require('node:worker_threads') as { Worker: unknown };
const os = require('node:os') as { cpus: unknown };

describe('multi-threaded wasm in Node', () => {
  let report: BackendReport;
  const NodeWorker = workerThreads.Worker;
  const nodeCpus = os.cpus;

  beforeAll(async () => {
    report = await setupBackend({ prefer: 'wasm', threads: 2 });
  });

  it('starts the threaded build with the threads asked for and restores worker_threads and os', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(report.threads).toBe(2);
    expect(report.notes[1]).toMatch(/^threaded SIMD build with 2 threads/);
    expect(report.message).toMatch(/^Using the wasm backend \(wasm, 2 thread\(s\);/);
    // XNNPACK's pool: one worker per thread besides the calling one, running a pthread.
    const pthreads = (tf.backend() as unknown as { wasm: { PThread: { runningWorkers: unknown[] } } }).wasm
      .PThread;
    expect(pthreads.runningWorkers).toHaveLength(1);
    expect(workerThreads.Worker).toBe(NodeWorker);
    expect(os.cpus).toBe(nodeCpus);
  });

  it('computes convolutions and their gradients to the float64 reference on 40 random cases', () => {
    const rng = createRng(21);
    for (let i = 0; i < 40; i++) runCase(randomCase(rng), rng);
  });

  it('computes U-Net-sized convolutions, which XNNPACK splits across threads, to the reference', () => {
    const rng = createRng(22);
    runCase({ x: [4, 32, 32, 16], f: [3, 3, 16, 16], stride: [1, 1], dilation: [1, 1], pad: 'same' }, rng);
    runCase({ x: [4, 32, 32, 16], f: [3, 3, 16, 32], stride: [2, 2], dilation: [1, 1], pad: 'same' }, rng);
    runCase({ x: [4, 16, 16, 32], f: [1, 1, 32, 16], stride: [1, 1], dilation: [1, 1], pad: 'valid' }, rng);
  });

  it('trains a small U-Net with the losses of the cpu backend', async () => {
    // The stock ResizeNearestNeighborGrad is wrong for batches > 1 on cpu: use the fast kernels there too.
    registerFastKernels('cpu');
    const cpu = (await trainSmallUnet('cpu')).losses;
    unregisterFastKernels('cpu');
    const wasm = (await trainSmallUnet('wasm')).losses;
    expect(cpu[2]!).toBeLessThan(cpu[0]!);
    expectTensorsClose(wasm, cpu, { rtol: 1e-4, atol: 0, message: 'losses' });
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 16, 16, 8]);
    const w = tf.randomNormal([3, 3, 8, 8]);
    await expectNoLeaks(() =>
      tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')))(w),
    );
    tf.dispose([x, w]);
  });
});
