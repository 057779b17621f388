/**
 * Which Node.js versions the GPU path (`@tensorflow/tfjs-node-gpu` 4.22.0) can run on.
 *
 * - The repository's `engines` is `>=20.11 <21 || >=22`; Node 20 LTS is the version the GPU path
 *   is set up and tested with.
 * - tfjs-node(-gpu) 4.22.0 calls `util.isNullOrUndefined` (in `dist/nodejs_kernel_backend.js`),
 *   which Node 22 deprecates at run time and Node 23 removed: on Node ≥ 23 the first tensor op
 *   throws `TypeError: (0 , util_1.isNullOrUndefined) is not a function` (tensorflow/tfjs#8609; the
 *   fix, tensorflow/tfjs#8425, is merged but was never released).
 * - The N-API version is not the problem on Linux: node-pre-gyp loads `lib/napi-v8` (the highest of
 *   the package's `napi_versions` 3–8 that Node supports) on Node 20 (N-API 9) and Node 22 (N-API
 *   9/10) alike, and the addon finds libtensorflow through its rpath `$ORIGIN/../../deps/lib`. The
 *   napi-v9 failure of tensorflow/tfjs#8542 is Windows-only (the install script copies
 *   `tensorflow.dll` next to a `napi-v<process.versions.napi>` addon directory that does not exist).
 *
 * @module
 */

import type { Assessment } from './gpu-probe.js';

/** The major version `pnpm gpu:setup` accepts: 20 (LTS, with the repository's `>=20.11`). */
export const supportedNodeMajor = 20;

/** The oldest Node 20 the repository's `engines` accepts. */
export const minimumNode20 = '20.11.0';

function parse(version: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = version.replace(/^v/, '').split('.').map(Number);
  return [a, b, c];
}

/**
 * Assesses a Node version (`process.version`, with or without the `v`) for the GPU path:
 * `ok` for Node 20 ≥ 20.11, `warn` for Node 22 (loads, with a deprecation warning; `pnpm gpu:setup`
 * still refuses it), `missing` for anything else.
 */
export function assessNodeForGpu(version: string): Assessment {
  const [major, minor] = parse(version);
  const v = `v${version.replace(/^v/, '')}`;
  const useNode20 =
    'use Node 20 LTS for GPU training (e.g. `nvm install 20 && nvm use 20`), then `pnpm gpu:setup`';
  if (major === supportedNodeMajor && minor >= 11) return { status: 'ok', detail: `Node ${v}` };
  if (major >= 23) {
    return {
      status: 'missing',
      detail:
        `Node ${v}: @tensorflow/tfjs-node-gpu 4.22.0 calls util.isNullOrUndefined, removed in Node 23; ` +
        'every tensor op on the tensorflow backend throws a TypeError (tensorflow/tfjs#8609)',
      fix: useNode20,
    };
  }
  if (major === 22) {
    return {
      status: 'warn',
      detail:
        `Node ${v}: @tensorflow/tfjs-node-gpu 4.22.0 loads, but calls util.isNullOrUndefined, deprecated at run time ` +
        'in Node 22 and removed in 23; the GPU path is set up and tested on Node 20 and `pnpm gpu:setup` refuses Node 22',
      fix: useNode20,
    };
  }
  return {
    status: 'missing',
    detail: `Node ${v} is outside the repository's engines (>=20.11 <21 || >=22)`,
    fix: useNode20,
  };
}
