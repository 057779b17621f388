/**
 * Whether `@tensorflow/tfjs-node-gpu`'s install script has run, read from the package's files.
 *
 * The package ships JavaScript, the addon's C++ sources and `binding.gyp`, but no native code. Its
 * `install` script (`node scripts/install.js gpu download`) downloads libtensorflow 2.9.1 (GPU)
 * into `deps/` (`deps/lib/libtensorflow.so.2.9.1`, `libtensorflow_framework.so.2.9.1`) and has
 * node-pre-gyp fetch or build the addon into `lib/napi-v<N>/tfjs_binding.node`, where N is the
 * highest of `binary.napi_versions` (3–8 in 4.22.0) that the running Node supports; `dist/index.js`
 * loads the addon from there and the addon finds libtensorflow through its rpath
 * `$ORIGIN/../../deps/lib`. This repository's pnpm settings skip that script (the package is in
 * `ignoredBuiltDependencies`), so on a fresh install both are absent.
 *
 * @module
 */

import type { Assessment } from './gpu-probe.js';
import { libtensorflowVersion } from './gpu-probe.js';

/** The package name. */
export const tfjsNodeGpuPackage = '@tensorflow/tfjs-node-gpu';

/** The version this repository pins (catalog in pnpm-workspace.yaml). */
export const tfjsNodeGpuVersion = '4.22.0';

/** Read-only file access the inspection needs (the doctor passes `node:fs`-backed functions). */
export interface FileProbe {
  exists(path: string): boolean;
  /** A directory's entries, or `undefined` if it does not exist. */
  listDirectory(path: string): string[] | undefined;
  /** A file's text, or `undefined` if it does not exist. */
  readText(path: string): string | undefined;
}

/** What is on disk for the package. */
export interface TfjsNodeGpuInstall {
  packageDir: string;
  /** `version` of its package.json. */
  version: string | undefined;
  /** Its `binary.napi_versions`. */
  napiVersions: number[];
  /** N-API versions N for which `lib/napi-vN/tfjs_binding.node` exists. */
  addonNapiVersions: number[];
  /** `deps/lib/libtensorflow.so.2.9.1` exists (what the install script checks). */
  libtensorflow: boolean;
  /** `deps/lib/libtensorflow_framework.so.2.9.1` exists. */
  libtensorflowFramework: boolean;
}

/** The addon file name. */
export const addonFileName = 'tfjs_binding.node';

/** The addon path for an N-API build version, relative to the package directory. */
export function addonRelativePath(napi: number): string {
  return `lib/napi-v${napi}/${addonFileName}`;
}

/**
 * The N-API build node-pre-gyp loads: the highest of the package's `napi_versions` not above the
 * running Node's (`process.versions.napi`); `undefined` if none qualifies.
 */
export function selectNapiBuildVersion(
  napiVersions: readonly number[],
  nodeNapi: number,
): number | undefined {
  const usable = napiVersions.filter((v) => Number.isInteger(v) && v > 0 && v <= nodeNapi);
  return usable.length === 0 ? undefined : Math.max(...usable);
}

/** Reads the package's state from `packageDir` (its resolved directory). */
export function inspectTfjsNodeGpu(packageDir: string, fs: FileProbe): TfjsNodeGpuInstall {
  const dir = packageDir.replace(/\/+$/, '');
  let version: string | undefined;
  let napiVersions: number[] = [];
  const text = fs.readText(`${dir}/package.json`);
  if (text !== undefined) {
    const pkg = JSON.parse(text) as { version?: string; binary?: { napi_versions?: number[] } };
    version = pkg.version;
    napiVersions = pkg.binary?.napi_versions ?? [];
  }
  const addonNapiVersions = (fs.listDirectory(`${dir}/lib`) ?? [])
    .map((name) => /^napi-v(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((n) => fs.exists(`${dir}/${addonRelativePath(n)}`))
    .sort((a, b) => a - b);
  return {
    packageDir: dir,
    version,
    napiVersions,
    addonNapiVersions,
    libtensorflow: fs.exists(`${dir}/deps/lib/libtensorflow.so.${libtensorflowVersion}`),
    libtensorflowFramework: fs.exists(`${dir}/deps/lib/libtensorflow_framework.so.${libtensorflowVersion}`),
  };
}

const runSetup =
  'run `pnpm gpu:setup` (runs the package install script pnpm skipped: downloads libtensorflow 2.9.1 and the addon)';

/** Checks the native addon against the N-API version of the running Node. */
export function assessAddon(install: TfjsNodeGpuInstall, nodeNapi: number): Assessment {
  const wanted = selectNapiBuildVersion(install.napiVersions, nodeNapi);
  if (wanted === undefined) {
    return {
      status: 'missing',
      detail: `this Node has N-API ${nodeNapi}; ${tfjsNodeGpuPackage} supports N-API ${install.napiVersions.join(', ')}`,
      fix: 'use Node 20 LTS',
    };
  }
  const path = addonRelativePath(wanted);
  if (install.addonNapiVersions.includes(wanted)) {
    return { status: 'ok', detail: `${path} (N-API ${nodeNapi} → napi-v${wanted})` };
  }
  if (install.addonNapiVersions.length > 0) {
    const have = install.addonNapiVersions.map((n) => `napi-v${n}`).join(', ');
    return {
      status: 'missing',
      detail: `this Node (N-API ${nodeNapi}) loads ${path}, but only ${have} was built (by another Node version)`,
      fix: `with this Node, ${runSetup}`,
    };
  }
  return {
    status: 'missing',
    detail: `${path} is absent: the package's install script has not run`,
    fix: runSetup,
  };
}

/** Checks that libtensorflow 2.9.1 was downloaded into the package's `deps/lib`. */
export function assessLibtensorflow(install: TfjsNodeGpuInstall): Assessment {
  if (install.libtensorflow && install.libtensorflowFramework) {
    return { status: 'ok', detail: `deps/lib/libtensorflow.so.${libtensorflowVersion} (+ framework)` };
  }
  const absent = [
    install.libtensorflow ? undefined : `libtensorflow.so.${libtensorflowVersion}`,
    install.libtensorflowFramework ? undefined : `libtensorflow_framework.so.${libtensorflowVersion}`,
  ].filter((x) => x !== undefined);
  return {
    status: 'missing',
    detail: `deps/lib lacks ${absent.join(' and ')}: libtensorflow ${libtensorflowVersion} (GPU) was not downloaded`,
    fix: runSetup,
  };
}
