import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltSite, buildSite, DOCS_DIR, guideFiles } from './build-site.js';
import { chromiumMissingReason, chromiumPath, launchChromium } from './chromium.js';
import { expectedNfe, SAMPLER_IDS, type SamplerId } from './live/expected-nfe.js';
import { DOCUMENTED_ENTRY_POINTS } from './packages.js';

const missing = chromiumMissingReason();
if (missing) console.warn(`site.test.ts: the browser checks of the docs site are SKIPPED: ${missing}`);

/** Every `.html` file below `dir`. */
async function htmlFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await htmlFiles(path)));
    else if (entry.name.endsWith('.html')) files.push(path);
  }
  return files;
}

/** Screenshots of every visited page, for a person to look at (gitignored). */
const SCREENSHOTS = join(DOCS_DIR, 'screenshots');

describe('validation', () => {
  it('fails the build on an undocumented export and on a broken link, naming both', async () => {
    const fixture = join(DOCS_DIR, 'test-fixtures', 'validation');
    const out = await mkdtemp(join(tmpdir(), 'sbm-site-invalid-'));
    try {
      const built = buildSite({
        outDir: out,
        project: { entryPoints: [join(fixture, 'index.ts')], tsconfig: join(fixture, 'tsconfig.json') },
        log: () => {},
      });
      await expect(built).rejects.toThrow(/undocumentedFixtureFunction.*does not have any documentation/);
      await expect(built).rejects.toThrow(/Failed to resolve link to "noSuchSymbol"/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the built site', () => {
  let site: BuiltSite;
  let outDir: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'sbm-site-'));
    site = await buildSite({ outDir, log: (level, message) => logLines.push(`${level}: ${message}`) });
  }, 600_000);

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  describe('building the site', () => {
    it('writes a page for every documented import path and every guide, with no typedoc warning', async () => {
      expect(logLines.filter((l) => !l.startsWith('info:'))).toEqual([]);
      expect(Object.keys(site.packages).sort()).toEqual(
        DOCUMENTED_ENTRY_POINTS.map((e) => e.importPath).sort(),
      );
      // One page per guide file (index.md is the home page).
      expect(Object.keys(site.guides)).toHaveLength((await guideFiles()).length);
      expect(site.liveHtml).not.toBe('');
      const index = await readFile(site.indexHtml, 'utf8');
      expect(index).toContain('assets/custom.css');
      // No page points at the external icon sprite, which file:// refuses.
      expect(index).not.toMatch(/icons\.svg#/);
    });

    it('has no relative link or resource on any page that points at a missing file', async () => {
      const pages = await htmlFiles(outDir);
      expect(pages.length).toBeGreaterThan(200);
      const broken: string[] = [];
      let checked = 0;
      for (const file of pages) {
        const html = await readFile(file, 'utf8');
        for (const match of html.matchAll(/\s(?:href|src)="([^"#?]+)[^"]*"/g)) {
          const target = match[1] as string;
          // Absolute URLs (https:, data:, mailto:) are not files of the site.
          if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
          checked++;
          if (!existsSync(resolve(dirname(file), decodeURIComponent(target)))) {
            broken.push(`${relative(outDir, file)} → ${target}`);
          }
        }
      }
      expect(checked).toBeGreaterThan(1000);
      expect(broken).toEqual([]);
    });
  });

  /** Opens `file` from file:// and records console errors, page errors and failed requests. */
  async function visit(
    browser: Browser,
    file: string,
    name: string,
  ): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) =>
      errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
    );
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // typedoc's main.js shows the page once it has set up (it hides the body until then).
    await page.waitForFunction(() => document.body.style.display !== 'none', undefined, { timeout: 10_000 });
    await page.evaluate(() => document.fonts.ready);
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name.replace(/[^a-z0-9]+/gi, '_')}.png`) });
    return { page, errors };
  }

  /** The math on the page: how many KaTeX formulas, how many errors, and whether KaTeX's font is in use. */
  async function mathOnPage(
    page: Page,
  ): Promise<{ formulas: number; errors: number; visible: number; fontLoaded: boolean }> {
    return page.evaluate(() => {
      const formulas = [...document.querySelectorAll('.katex')];
      return {
        formulas: formulas.length,
        errors: document.querySelectorAll('.katex-error').length,
        visible: formulas.filter((f) => f.getBoundingClientRect().width > 0).length,
        fontLoaded:
          document.fonts.check('16px KaTeX_Main') &&
          [...document.fonts].some((f) => f.family.includes('KaTeX') && f.status === 'loaded'),
      };
    });
  }

  describe.skipIf(missing !== undefined)(`the site in headless Chromium (${chromiumPath()})`, () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('opens the home page from file:// with no console error', async () => {
      const { page, errors } = await visit(browser, site.indexHtml, 'index');
      expect(errors).toEqual([]);
      await expect(page.title()).resolves.toBe('sbm');
      await page.close();
    });

    it('opens every package page with no console error', async () => {
      for (const [name, file] of Object.entries(site.packages)) {
        const { page, errors } = await visit(browser, file, `package-${name}`);
        expect(errors, name).toEqual([]);
        await expect(page.locator('h1').first().textContent(), name).resolves.toContain(name);
        await page.close();
      }
    });

    it('opens every guide with no console error', async () => {
      for (const [name, file] of Object.entries(site.guides)) {
        const { page, errors } = await visit(browser, file, `guide-${name}`);
        expect(errors, name).toEqual([]);
        await page.close();
      }
    });

    it('renders equations as math with the bundled KaTeX fonts, in an API page and in a guide', async () => {
      const vpsde = join(outDir, 'classes', '_sbm_sde.VPSDE.html');
      const sdeGuide = Object.entries(site.guides).find(([name]) => /sde/i.test(name))?.[1];
      expect(sdeGuide, 'a guide on the SDE view').toBeDefined();
      for (const [name, file] of [
        ['VPSDE', vpsde],
        ['SDE guide', sdeGuide as string],
      ] as const) {
        const { page, errors } = await visit(browser, file, `math-${name}`);
        expect(errors, name).toEqual([]);
        const math = await mathOnPage(page);
        expect(math.errors, name).toBe(0);
        expect(math.formulas, name).toBeGreaterThan(0);
        expect(math.visible, name).toBeGreaterThan(0);
        expect(math.fontLoaded, `${name}: KaTeX_Main loaded from the site's fonts`).toBe(true);
        await page.close();
      }
    });

    describe('the live page', () => {
      let page: Page;
      let errors: string[];
      const status = async (): Promise<Record<string, string>> =>
        page.$eval('#sbm-live-status', (el) =>
          Object.fromEntries(
            [...el.attributes]
              .filter((a) => a.name.startsWith('data-'))
              .map((a) => [a.name.slice(5), a.value]),
          ),
        );
      /**
       * Counts the canvas pixels in the points' colour, read off the canvas itself rather than from what the page
       * reports: the theme's link colour for the exact score, its accessor colour for the trained network (the
       * mixture density behind the points is drawn in another hue).
       */
      const pointPixels = async (model: 'exact' | 'trained'): Promise<number> =>
        page.$eval(
          '#sbm-live-canvas',
          (canvas, variable) => {
            const c = canvas as HTMLCanvasElement;
            const probe = document.createElement('canvas').getContext('2d') as CanvasRenderingContext2D;
            probe.fillStyle = getComputedStyle(c).getPropertyValue(variable).trim();
            const hex = String(probe.fillStyle);
            const want = [1, 3, 5].map((k) => Number.parseInt(hex.slice(k, k + 2), 16));
            const data = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(
              0,
              0,
              c.width,
              c.height,
            ).data;
            let n = 0;
            for (let i = 0; i < data.length; i += 4) {
              const d = Math.max(
                ...[0, 1, 2].map((k) => Math.abs((data[i + k] as number) - (want[k] as number))),
              );
              if (d <= 60) n++;
            }
            return n;
          },
          model === 'exact' ? '--color-link' : '--color-ts-accessor',
        );

      beforeAll(async () => {
        ({ page, errors } = await visit(browser, site.liveHtml, 'live'));
        await page.waitForSelector('#sbm-live-status:not([data-ready="false"])', {
          timeout: 60_000,
          state: 'attached',
        });
      }, 120_000);
      afterAll(async () => {
        await page?.close();
      });

      it('starts the wasm backend from file://', async () => {
        const s = await status();
        expect(s.ready).toBe('true');
        expect(s.backend).toBe('wasm');
        expect(errors).toEqual([]);
      });

      // Step counts chosen so that the rules give distinct NFEs (N, 2N, 3N, 2N − 1, …).
      const cases: [SamplerId, number][] = [
        ['pc-euler-maruyama', 7],
        ['pc-langevin', 6],
        ['ddpm', 9],
        ['ddim', 10],
        ['dpm-solver-pp-2m', 12],
        ['unipc', 8],
        ['dpm-solver-3', 4],
        ['edm-heun', 11],
        ['ode-heun', 5],
        ['ode-rk45', 20],
      ];
      it('offers exactly the samplers checked below on its picker', async () => {
        const options = await page.$$eval('#sbm-live-sampler option', (os) =>
          os.map((o) => (o as HTMLOptionElement).value),
        );
        expect(options.sort()).toEqual([...SAMPLER_IDS].sort());
        expect(cases.map(([id]) => id).sort()).toEqual([...SAMPLER_IDS].sort());
      });

      it.each(cases)(
        '%s with N = %i draws the samples and reports the NFE of its rule',
        async (sampler, steps) => {
          await page.selectOption('#sbm-live-sampler', sampler);
          await page.fill('#sbm-live-steps', String(steps));
          await page.click('#sbm-live-run');
          await page.waitForSelector(
            `#sbm-live-status[data-state="done"][data-sampler="${sampler}"][data-steps="${steps}"]`,
            {
              timeout: 120_000,
              state: 'attached',
            },
          );
          const s = await status();
          expect(Number(s.samples)).toBe(Number(await page.inputValue('#sbm-live-points')));
          const expected =
            sampler === 'ode-rk45'
              ? expectedNfe(sampler, steps, { accepted: Number(s.accepted), rejected: Number(s.rejected) })
              : expectedNfe(sampler, steps);
          expect(Number(s.nfe)).toBe(expected);
          // What the reader sees: the NFE in the page's statistics.
          await expect(page.locator('#sbm-live-stat-nfe').textContent()).resolves.toContain(String(expected));
          // The points are on the canvas (1000 points of radius ≈ 1 px, overlapping in the blobs, cover about 2500 pixels).
          expect(await pointPixels('exact')).toBeGreaterThan(1000);
          expect(errors).toEqual([]);
        },
      );

      it('trains the small score network in the browser, the loss falls, and samples from it', async () => {
        await page.fill('#sbm-live-train-steps', '300');
        await page.click('#sbm-live-train');
        await page.waitForSelector('#sbm-live-status[data-train-state="done"]', {
          timeout: 300_000,
          state: 'attached',
        });
        const trained = await status();
        expect(Number(trained['train-steps'])).toBe(300);
        expect(Number(trained['last-loss'])).toBeLessThan(0.9 * Number(trained['first-loss']));
        await page.locator('#sbm-live-loss').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SCREENSHOTS, 'live_trained.png') });

        await page.selectOption('#sbm-live-sampler', 'ddim');
        await page.fill('#sbm-live-steps', '25');
        await page.click('#sbm-live-run-trained');
        await page.waitForSelector(
          '#sbm-live-status[data-state="done"][data-model="trained"][data-sampler="ddim"]',
          {
            timeout: 120_000,
            state: 'attached',
          },
        );
        const sampled = await status();
        expect(Number(sampled.nfe)).toBe(expectedNfe('ddim', 25));
        expect(Number(sampled.samples)).toBe(Number(await page.inputValue('#sbm-live-points')));
        expect(await pointPixels('trained')).toBeGreaterThan(1000);
        await page.locator('#sbm-live-canvas').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SCREENSHOTS, 'live_trained_samples.png') });
        expect(errors).toEqual([]);
      }, 300_000);
    });
  });
});
