import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fastKernelNames, hasFastKernels, unregisterFastKernels } from './fast-kernels.js';
import { SbmBackendError, selectBackend, setupBackend } from './setup-backend.js';

const realImport = (specifier: string): Promise<unknown> => import(specifier);

/** An importer that fails for the named packages with the given errors and imports the rest. */
function failing(errors: Record<string, Error>) {
  return (specifier: string) =>
    specifier in errors ? Promise.reject(errors[specifier]) : realImport(specifier);
}

function notFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/index.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

describe('selectBackend', () => {
  it('passes over the missing tensorflow packages and takes wasm, saying why', async () => {
    const s = await selectBackend();
    expect(s.choice).toBe('wasm');
    expect(s.backendName).toBe('wasm');
    expect(s.candidates.map((c) => [c.choice, c.available])).toEqual([
      ['tensorflow-gpu', false],
      ['tensorflow', false],
      ['wasm', true],
    ]);
    expect(s.candidates[0]!.reason).toMatch(
      /@tensorflow\/tfjs-node-gpu is not installed.*CUDA 11\.2 \+ cuDNN 8/,
    );
    expect(s.candidates[1]!.reason).toMatch(/@tensorflow\/tfjs-node is not installed.*libtensorflow 2\.9\.1/);
  });

  it('explains a GPU build that cannot find CUDA', async () => {
    const importModule = failing({
      '@tensorflow/tfjs-node-gpu': new Error(
        'libcudart.so.11.0: cannot open shared object file: No such file or directory',
      ),
    });
    const err = await selectBackend({ prefer: 'tensorflow-gpu', importModule }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SbmBackendError);
    expect((err as SbmBackendError).choice).toBe('tensorflow-gpu');
    expect((err as Error).message).toMatch(/CUDA 11\.2 and cuDNN 8.*libcudart\.so\.11\.0/);
  });

  it('explains a tfjs-node whose native binding was never built', async () => {
    const importModule = failing({
      '@tensorflow/tfjs-node': Object.assign(
        new Error(
          "Cannot find module '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'",
        ),
        { code: 'MODULE_NOT_FOUND' },
      ),
    });
    await expect(selectBackend({ prefer: 'tensorflow', importModule })).rejects.toThrow(
      /native binding did not load.*onlyBuiltDependencies.*pnpm rebuild @tensorflow\/tfjs-node/,
    );
  });

  it('says when a package loads but registers no backend with this tfjs-core', async () => {
    const importModule = (s: string) => (s === '@tensorflow/tfjs-node' ? Promise.resolve({}) : realImport(s));
    await expect(selectBackend({ prefer: 'tensorflow', importModule })).rejects.toThrow(
      /registered no 'tensorflow' backend with this copy of @tensorflow\/tfjs-core/,
    );
  });

  it('names every missing package when nothing loads', async () => {
    const importModule = (s: string) => Promise.reject(notFound(s));
    const err = (await selectBackend({ importModule }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(SbmBackendError);
    for (const pkg of ['tfjs-node-gpu', 'tfjs-node', 'tfjs-backend-wasm', 'tfjs-backend-cpu']) {
      expect(err.message).toContain(`@tensorflow/${pkg} is not installed`);
    }
  });

  it('rejects bad options by name', async () => {
    await expect(selectBackend({ prefer: 'gpu' as 'cpu' })).rejects.toThrow(SbmArgumentError);
    await expect(selectBackend({ prefer: 'gpu' as 'cpu' })).rejects.toThrow(
      /^options\.prefer: expected 'auto' or one of/,
    );
    await expect(setupBackend({ threads: 0 })).rejects.toThrow(/^options\.threads: expected an integer >= 1/);
  });
});

describe('setupBackend', () => {
  it('activates cpu on request with its fast kernels and reports it', async () => {
    const r = await setupBackend({ prefer: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(r).toMatchObject({ choice: 'cpu', backendName: 'cpu', threads: 1 });
    expect(r.fastKernels).toEqual(fastKernelNames('cpu'));
    expect(hasFastKernels('cpu')).toBe(true);
    expect(r.message).toMatch(/^Using the cpu backend \(cpu, 1 thread\(s\); fast kernels: Conv2D, /);
    unregisterFastKernels('cpu');
  });

  it('leaves the stock kernels alone with fastKernels: false', async () => {
    const r = await setupBackend({ prefer: 'cpu', fastKernels: false });
    expect(r.fastKernels).toEqual([]);
    expect(hasFastKernels('cpu')).toBe(false);
  });

  it('falls back from a wasm that fails to load to cpu, reporting why', async () => {
    const importModule = failing({
      '@tensorflow/tfjs-backend-wasm': new Error('WebAssembly is not supported'),
    });
    const r = await setupBackend({ importModule, fastKernels: false });
    expect(r.choice).toBe('cpu');
    const wasm = r.candidates.find((c) => c.choice === 'wasm');
    expect(wasm).toEqual({
      choice: 'wasm',
      available: false,
      reason: '@tensorflow/tfjs-backend-wasm failed to load: WebAssembly is not supported',
    });
    expect(r.message).toContain('Passed over: tensorflow-gpu: @tensorflow/tfjs-node-gpu is not installed');
  });

  it('sets up single-threaded wasm from the installed package (pnpm layout)', async () => {
    // threads: 1 keeps tfjs's own single-threaded SIMD build (the threaded one: wasm-threads.test.ts).
    const r = await setupBackend({ prefer: 'wasm', threads: 1 });
    expect(tf.getBackend()).toBe('wasm');
    expect(r.threads).toBe(1);
    expect(r.fastKernels).toContain('Conv2DBackpropFilter');
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(/^wasm binaries from .*tfjs-backend-wasm\/dist\/$/);
    expect(tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(false);
    const y = tf.conv2d(
      tf.ones([1, 3, 3, 1]) as tf.Tensor4D,
      tf.ones([2, 2, 1, 1]) as tf.Tensor4D,
      1,
      'valid',
    );
    expect(Array.from(await y.data())).toEqual([4, 4, 4, 4]);
    tf.dispose(y);
    // A second call finds wasm initialized and leaves it as it is.
    const again = await setupBackend({ prefer: 'wasm' });
    expect(again.notes[0]).toMatch(/already initialized/);
  });

  it('creates no tensors', async () => {
    await expectNoLeaks(() => setupBackend({ prefer: 'cpu' }));
  });
});
