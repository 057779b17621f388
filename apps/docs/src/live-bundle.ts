import { join } from 'node:path';
import { build as esbuild } from 'esbuild';
import { DOCS_DIR } from './build-site.js';

/** The id of the element the live page's script fills (in `guides/live.md`). */
export const LIVE_ELEMENT_ID = 'sbm-live';
/** The live page's script, relative to the site root. */
export const LIVE_SCRIPT = 'assets/sbm-live.js';
/** The live page's stylesheet, relative to the site root. */
export const LIVE_STYLESHEET = 'assets/sbm-live.css';

/**
 * Bundles `src/live/main.ts` into the site as a classic script (module scripts do not load from `file://`), from the
 * packages as built (their `dist`), with its stylesheet. The wasm backend's `.wasm` binaries are embedded as `data:`
 * URLs (a page opened from `file://` cannot fetch files); the Node-only branches of `@sbm/backend` (`node:*` imports)
 * stay external and never run. Fails if the bundle holds more than one copy of `@tensorflow/tfjs-core`.
 */
export async function bundleLivePage(outDir: string): Promise<void> {
  const result = await esbuild({
    entryPoints: [join(DOCS_DIR, 'src', 'live', 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    outfile: join(outDir, LIVE_SCRIPT),
    minify: true,
    legalComments: 'eof',
    logLevel: 'silent',
    loader: { '.wasm': 'dataurl' },
    external: ['node:*'],
    metafile: true,
  });
  const cores = new Set(
    Object.keys(result.metafile.inputs)
      .map((path) => /^(.*@tensorflow\/tfjs-core)\//.exec(path)?.[1])
      .filter((dir) => dir !== undefined),
  );
  if (cores.size !== 1) {
    throw new Error(
      `docs: the live page bundles ${cores.size} copies of @tensorflow/tfjs-core: ${[...cores].join(', ')}`,
    );
  }
  await esbuild({
    entryPoints: [join(DOCS_DIR, 'src', 'live', 'live.css')],
    bundle: true,
    outfile: join(outDir, LIVE_STYLESHEET),
    logLevel: 'silent',
  });
}
