import { createRequire } from 'node:module';
import katex from 'katex';
import { describe, expect, it } from 'vitest';
import { mathPlugin, renderTex } from './math-plugin.js';

// The markdown-it typedoc itself bundles (same major version), loaded without types.
const require = createRequire(import.meta.url);
const MarkdownIt = require('markdown-it') as new (
  options: object,
) => { use(plugin: (md: unknown) => void): unknown; render(src: string): string };

function render(markdown: string): string {
  const md = new MarkdownIt({ html: true, linkify: true });
  md.use(mathPlugin);
  return md.render(markdown);
}

/** KaTeX's own output for `tex`, the independent reference for what the plugin must emit. */
const direct = (tex: string, displayMode: boolean): string =>
  katex.renderToString(tex, { displayMode, throwOnError: true, output: 'htmlAndMathml', strict: 'error' });

describe('mathPlugin', () => {
  it('renders $…$ inline, exactly as KaTeX renders the formula, inside the paragraph', () => {
    const html = render('The drift is $f(x, t) = -\\tfrac{1}{2}\\beta(t)\\,x$ for VP.');
    expect(html).toContain(direct('f(x, t) = -\\tfrac{1}{2}\\beta(t)\\,x', false));
    expect(html.startsWith('<p>The drift is <span class="katex">')).toBe(true);
    expect(html).toContain('</span> for VP.</p>');
  });

  it('keeps markdown syntax inside math as TeX: underscores and asterisks are not emphasis', () => {
    const html = render('$\\beta_{\\min} * x_t$ and $a_1 b_2$');
    expect(html).not.toContain('<em>');
    expect(html).toContain(direct('\\beta_{\\min} * x_t', false));
    expect(html).toContain(direct('a_1 b_2', false));
  });

  it('renders a $$…$$ block over several lines as display math', () => {
    const html = render('Before.\n\n$$\nx_{t} = \\alpha(t)\\,x_0\n  + \\sigma(t)\\,z\n$$\n\nAfter.');
    // Each line is read from its first non-blank character (indentation inside a doc comment is not TeX).
    expect(html).toContain(
      `<div class="math-display">${direct('\nx_{t} = \\alpha(t)\\,x_0\n+ \\sigma(t)\\,z\n', true)}</div>`,
    );
    expect(html).toContain('<p>Before.</p>');
    expect(html).toContain('<p>After.</p>');
  });

  it('renders $$…$$ within a line as display math', () => {
    const html = render('Eq. 11: $$dx = f\\,dt + g\\,dw$$ holds.');
    expect(html).toContain(direct('dx = f\\,dt + g\\,dw', true));
    expect(html).toContain('katex-display');
  });

  it('leaves dollar amounts, spaced dollars and code spans alone (pandoc rules)', () => {
    for (const text of ['It costs $5 and $6 today.', 'a $ b $ c', 'Use `$x$` literally.', 'A lone $ sign.']) {
      expect(render(text), text).not.toContain('katex');
    }
  });

  it('fails on invalid TeX, naming the formula', () => {
    expect(() => render('Broken: $\\frac{1}{$ here.')).toThrow(/math: cannot render \$\\frac\{1\}\{\$/);
    expect(() => renderTex('\\undefinedmacro{x}', true)).toThrow(/\$\$\\undefinedmacro\{x\}\$\$/);
  });
});
