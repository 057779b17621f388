/** The published packages the site documents, in the order of the site's navigation. */
export const DOCUMENTED_PACKAGES = [
  'sde',
  'samplers',
  'losses',
  'unet',
  'guidance',
  'metrics',
  'backend',
  'pth',
] as const;

/** One of {@link DOCUMENTED_PACKAGES}. */
export type DocumentedPackage = (typeof DOCUMENTED_PACKAGES)[number];

/** A documented import path: a package's main entry or one of its subpath exports. */
export interface DocumentedEntryPoint {
  /** The import path, e.g. `@sbm/metrics/node`. */
  importPath: string;
  /** The package's folder under `packages/`. */
  dir: DocumentedPackage;
  /** The entry file under the package's `src/`. */
  file: string;
}

/** Every import path of the published packages: each main entry, and the Node-only `/node` subpaths. */
export const DOCUMENTED_ENTRY_POINTS: readonly DocumentedEntryPoint[] = [
  ...DOCUMENTED_PACKAGES.map((dir) => ({ importPath: `@sbm/${dir}`, dir, file: 'index.ts' })),
  { importPath: '@sbm/metrics/node', dir: 'metrics', file: 'node/index.ts' },
  { importPath: '@sbm/unet/node', dir: 'unet', file: 'node.ts' },
];

/**
 * The guides' order in the site's navigation (file names in `apps/docs/guides`); a guide not listed here comes
 * after these, in alphabetical order.
 */
export const GUIDE_ORDER = [
  'scores.md',
  'sde-view.md',
  'choosing-a-sampler.md',
  'your-model.md',
  'import-checkpoint.md',
  'gpu-training.md',
  'guidance.md',
  'likelihood-and-fid.md',
  'live.md',
] as const;
