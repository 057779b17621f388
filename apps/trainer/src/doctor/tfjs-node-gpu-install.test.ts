import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nodeFileProbe } from './doctor.js';
import { tfjsNodeGpuLayout } from './gpu-box.test-support.js';
import {
  assessAddon,
  assessLibtensorflow,
  inspectTfjsNodeGpu,
  selectNapiBuildVersion,
} from './tfjs-node-gpu-install.js';

const installedDir = dirname(
  createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu/package.json'),
);

describe('selectNapiBuildVersion (node-pre-gyp: highest napi_versions entry <= Node N-API)', () => {
  const shipped = [3, 4, 5, 6, 7, 8];
  test('Node 20 (N-API 9) and Node 22.14+ (N-API 10) both load napi-v8', () => {
    expect(selectNapiBuildVersion(shipped, 9)).toBe(8);
    expect(selectNapiBuildVersion(shipped, 10)).toBe(8);
  });
  test('older N-API picks lower; none below 3', () => {
    expect(selectNapiBuildVersion(shipped, 7)).toBe(7);
    expect(selectNapiBuildVersion(shipped, 2)).toBeUndefined();
  });
});

describe('inspectTfjsNodeGpu', () => {
  test('the installed package here: napi_versions 3-8, no addon, no libtensorflow (install script skipped)', () => {
    const install = inspectTfjsNodeGpu(installedDir, nodeFileProbe);
    expect(install).toMatchObject({
      version: '4.22.0',
      napiVersions: [3, 4, 5, 6, 7, 8],
      addonNapiVersions: [],
      libtensorflow: false,
      libtensorflowFramework: false,
    });
    expect(assessAddon(install, 9)).toMatchObject({
      status: 'missing',
      detail: "lib/napi-v8/tfjs_binding.node is absent: the package's install script has not run",
    });
    expect(assessLibtensorflow(install).status).toBe('missing');
  });

  test('after the install script: addon in lib/napi-v8 and libtensorflow in deps/lib', () => {
    const install = inspectTfjsNodeGpu(
      tfjsNodeGpuLayout({ addonNapi: [8], libtensorflow: true }),
      nodeFileProbe,
    );
    expect(install.addonNapiVersions).toEqual([8]);
    expect(assessAddon(install, 9)).toEqual({
      status: 'ok',
      detail: 'lib/napi-v8/tfjs_binding.node (N-API 9 → napi-v8)',
    });
    expect(assessLibtensorflow(install).status).toBe('ok');
  });

  test('an addon built by another Node (napi-v6 only) does not count', () => {
    const install = inspectTfjsNodeGpu(tfjsNodeGpuLayout({ addonNapi: [6] }), nodeFileProbe);
    expect(assessAddon(install, 9)).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('only napi-v6 was built'),
    });
  });
});
