import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Application,
  JSX,
  Logger,
  type LogLevel,
  PageEvent,
  RendererEvent,
  TSConfigReader,
  TypeDocReader,
} from 'typedoc';
import { bundleLivePage, LIVE_ELEMENT_ID, LIVE_SCRIPT, LIVE_STYLESHEET } from './live-bundle.js';
import { mathPlugin } from './math-plugin.js';
import { DOCUMENTED_ENTRY_POINTS, DOCUMENTED_PACKAGES, GUIDE_ORDER } from './packages.js';

const require = createRequire(import.meta.url);

/** apps/docs, whether this runs from src (tests) or dist (the CLI). */
export const DOCS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root. */
export const REPO_ROOT = resolve(DOCS_DIR, '..', '..');
/** Where `pnpm run docs` writes the site. */
export const DEFAULT_SITE_DIR = join(DOCS_DIR, 'site');

/** Options of {@link buildSite}. */
export interface BuildSiteOptions {
  /** Output folder (emptied first). Default `apps/docs/site`. */
  outDir?: string;
  /**
   * When true (the default), any typedoc warning or error fails the build (after the pages are written). False
   * returns them in {@link BuiltSite.problems} instead, for looking at a site while its docs are being fixed.
   */
  strict?: boolean;
  /** Entry points and tsconfig instead of the packages' (for the build's own test). */
  project?: { entryPoints: string[]; tsconfig: string };
  /** Receives typedoc's messages and the build's progress lines. Default: the console. */
  log?: (level: 'error' | 'warn' | 'info', message: string) => void;
}

/** What {@link buildSite} wrote. */
export interface BuiltSite {
  /** The output folder. */
  outDir: string;
  /** typedoc's warnings and errors (always empty when the build was strict, since they throw). */
  problems: string[];
  /** The site's entry page (`index.html`), openable from `file://`. */
  indexHtml: string;
  /** The live sampling page (the guide that holds the live element). */
  liveHtml: string;
  /** Every guide's page, by the guide's title. */
  guides: Record<string, string>;
  /** Every package's page, by import path (`@sbm/sde`, `@sbm/metrics/node`, …). */
  packages: Record<string, string>;
}

/** Collects typedoc's messages so that a warning fails the build with all of them listed. */
class CollectingLogger extends Logger {
  readonly messages: string[] = [];
  constructor(private readonly sink: NonNullable<BuildSiteOptions['log']>) {
    super();
  }
  override log(message: string, level: LogLevel): void {
    super.log(message, level);
    // LogLevel: Verbose 0, Info 1, Warn 2, Error 3.
    const name = level >= 3 ? 'error' : level === 2 ? 'warn' : 'info';
    if (level >= 2) this.messages.push(`[${name}] ${message}`);
    if (level >= 1) this.sink(name, message);
  }
}

const defaultLog: NonNullable<BuildSiteOptions['log']> = (level, message) => {
  if (level === 'error') console.error(message);
  else if (level === 'warn') console.warn(message);
  else console.log(message);
};

/** The guides, `apps/docs/guides/*.md` but `index.md` (the home page), in {@link GUIDE_ORDER}. */
export async function guideFiles(): Promise<string[]> {
  const names = await readdir(join(DOCS_DIR, 'guides'));
  const rank = (name: string): number => {
    const i = (GUIDE_ORDER as readonly string[]).indexOf(name);
    return i < 0 ? GUIDE_ORDER.length : i;
  };
  return names
    .filter((n) => n.endsWith('.md') && n !== 'index.md')
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * Builds the documentation site: typedoc over every published package's sources (validation on, every warning an
 * error), the guides in `apps/docs/guides`, math rendered with KaTeX at build time, and the live page's script
 * bundled with esbuild from the built packages. The result opens from `file://` with no server.
 */
export async function buildSite(options: BuildSiteOptions = {}): Promise<BuiltSite> {
  const outDir = resolve(options.outDir ?? DEFAULT_SITE_DIR);
  const log = options.log ?? defaultLog;
  const katexDir = dirname(require.resolve('katex/package.json'));
  const guides = await guideFiles();
  const customCss = await writeSiteCss(katexDir);

  const app = await Application.bootstrapWithPlugins(
    {
      name: 'sbm',
      entryPoints:
        options.project?.entryPoints ??
        DOCUMENTED_ENTRY_POINTS.map((e) => join(REPO_ROOT, 'packages', e.dir, 'src', e.file)),
      entryPointStrategy: 'resolve',
      tsconfig: options.project?.tsconfig ?? join(DOCS_DIR, 'tsconfig.typedoc.json'),
      readme: join(DOCS_DIR, 'guides', 'index.md'),
      projectDocuments: guides.map((g) => join(DOCS_DIR, 'guides', g)),
      out: outDir,
      excludePrivate: true,
      excludeInternal: true,
      excludeExternals: true,
      disableSources: true,
      hideGenerator: true,
      cleanOutputDir: true,
      githubPages: false,
      includeVersion: false,
      customCss,
      markdownItLoader: mathPlugin,
      validation: {
        notExported: true,
        invalidLink: true,
        invalidPath: true,
        rewrittenLink: true,
        notDocumented: true,
        unusedMergeModuleWith: true,
      },
      // @sbm/docs itself only for the build's own test fixture (its sources are no entry point of the site).
      packagesRequiringDocumentation: [...DOCUMENTED_PACKAGES.map((p) => `@sbm/${p}`), '@sbm/docs'],
      requiredToBeDocumented: [
        'Enum',
        'EnumMember',
        'Variable',
        'Function',
        'Class',
        'Interface',
        'Property',
        'Method',
        'Accessor',
        'TypeAlias',
        'Constructor',
      ],
      treatWarningsAsErrors: true,
      treatValidationWarningsAsErrors: true,
      navigation: { includeCategories: false, includeGroups: true, includeFolders: false },
      sort: ['source-order'],
      logLevel: 'Info',
    },
    [new TypeDocReader(), new TSConfigReader()],
  );
  const logger = new CollectingLogger(log);
  app.logger = logger;
  // The live page is the guide whose markdown holds the live element; only that page loads the live script.
  const isLivePage = (model: unknown): boolean => {
    const m = model as { isDocument?: () => boolean; content?: { text: string }[] };
    return !!m.isDocument?.() && !!m.content?.some((part) => part.text.includes(`id="${LIVE_ELEMENT_ID}"`));
  };
  app.renderer.hooks.on('head.end', (context) =>
    isLivePage(context.page.model)
      ? JSX.createElement('link', { rel: 'stylesheet', href: context.relativeURL(LIVE_STYLESHEET, true) })
      : JSX.createElement(JSX.Fragment, null),
  );
  app.renderer.hooks.on('body.end', (context) =>
    isLivePage(context.page.model)
      ? JSX.createElement('script', { src: context.relativeURL(LIVE_SCRIPT, true) })
      : JSX.createElement(JSX.Fragment, null),
  );
  // typedoc's pages point at `assets/icons.svg#…` and also inline the same symbols with `assets/icons.js`. From
  // file:// Chromium refuses the external sprite (one console error per icon), so each page uses the inlined ones.
  app.renderer.on(PageEvent.END, (page: PageEvent) => {
    page.contents = page.contents?.replace(/href="(?:\.\.\/)*assets\/icons\.svg#/g, 'href="#');
  });
  const packagePages: BuiltSite['packages'] = {};
  const guidePages: BuiltSite['guides'] = {};
  let livePage = '';
  app.renderer.on(RendererEvent.END, (event: RendererEvent) => {
    for (const page of event.pages) {
      const file = join(outDir, page.url);
      const model = page.model as { name: string; isDocument?: () => boolean };
      if (model.isDocument?.()) guidePages[model.name] = file;
      else if (page.url.startsWith('modules/')) packagePages[model.name] = file;
      if (isLivePage(model)) livePage = file;
    }
  });

  const project = await app.convert();
  if (!project)
    throw new Error(`docs: typedoc could not convert the packages:\n${logger.messages.join('\n')}`);
  app.validate(project);
  // The pages are written even when validation failed, so that they can be looked at; the build still fails.
  await app.generateDocs(project, outDir);
  await rm(dirname(customCss), { recursive: true, force: true });

  // KaTeX's stylesheet is assets/custom.css; its fonts are referenced as fonts/… relative to it.
  await cp(join(katexDir, 'dist', 'fonts'), join(outDir, 'assets', 'fonts'), { recursive: true });
  await bundleLivePage(outDir);

  if (logger.messages.length > 0 && options.strict !== false) {
    throw new Error(
      `docs: typedoc reported ${logger.messages.length} problem(s):\n${logger.messages.join('\n')}`,
    );
  }

  log('info', `docs: site written to ${outDir} (open ${join(outDir, 'index.html')})`);
  return {
    outDir,
    problems: [...logger.messages],
    indexHtml: join(outDir, 'index.html'),
    liveHtml: livePage,
    guides: guidePages,
    packages: packagePages,
  };
}

/** The site's extra stylesheet: KaTeX's, then a few rules of the site's own. Written to a temporary folder. */
async function writeSiteCss(katexDir: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sbm-docs-css-'));
  const katexCss = await readFile(join(katexDir, 'dist', 'katex.min.css'), 'utf8');
  const own = await readFile(join(DOCS_DIR, 'src', 'site.css'), 'utf8');
  const file = join(dir, 'custom.css');
  await writeFile(file, `${katexCss}\n${own}`);
  return file;
}
