import katex from 'katex';

/**
 * The small part of markdown-it's API the math plugin uses (typedoc bundles markdown-it without its types).
 */
interface InlineState {
  src: string;
  pos: number;
  posMax: number;
  push(type: string, tag: string, nesting: number): { content: string; markup: string };
}
interface BlockState {
  src: string;
  bMarks: number[];
  eMarks: number[];
  tShift: number[];
  line: number;
  push(
    type: string,
    tag: string,
    nesting: number,
  ): { content: string; markup: string; map: [number, number] | null; block: boolean };
}
interface MarkdownParser {
  inline: {
    ruler: { before(name: string, rule: string, fn: (state: InlineState, silent: boolean) => boolean): void };
  };
  block: {
    ruler: {
      before(
        name: string,
        rule: string,
        fn: (state: BlockState, startLine: number, endLine: number, silent: boolean) => boolean,
        options?: { alt: string[] },
      ): void;
    };
  };
  renderer: { rules: Record<string, (tokens: { content: string }[], idx: number) => string> };
}

/**
 * Renders TeX to KaTeX HTML at build time, so the site needs no script (and no network) to show math. A TeX error
 * fails the build: `throwOnError` is on, and the error names the source.
 */
export function renderTex(tex: string, displayMode: boolean): string {
  try {
    return katex.renderToString(tex, {
      displayMode,
      throwOnError: true,
      output: 'htmlAndMathml',
      strict: 'error',
    });
  } catch (error) {
    throw new Error(
      `math: cannot render ${displayMode ? '$$' : '$'}${tex}${displayMode ? '$$' : '$'}: ${(error as Error).message}`,
    );
  }
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * Inline math `$…$` with pandoc's rules: the opening `$` is not followed by a space, the closing `$` is not preceded
 * by a space nor followed by a digit, and `\$` is a literal dollar. `$$…$$` on one line is display math.
 */
function inlineMath(state: InlineState, silent: boolean): boolean {
  const { src } = state;
  const start = state.pos;
  if (src[start] !== '$') return false;
  const display = src[start + 1] === '$';
  const open = display ? 2 : 1;
  if (!display && isSpace(src[start + open])) return false;
  let end = start + open;
  while (end < state.posMax) {
    if (src[end] === '\\') {
      end += 2;
      continue;
    }
    if (src[end] === '$') {
      if (display) {
        if (src[end + 1] === '$') break;
      } else if (!isSpace(src[end - 1]) && !isDigit(src[end + 1])) break;
    }
    end += 1;
  }
  if (end >= state.posMax) return false;
  const tex = src.slice(start + open, end);
  if (tex.trim() === '') return false;
  if (!silent) {
    const token = state.push(display ? 'math_display_inline' : 'math_inline', 'math', 0);
    token.content = tex;
    token.markup = display ? '$$' : '$';
  }
  state.pos = end + open;
  return true;
}

/** Display math: a line that starts with `$$`, up to the line that ends with `$$`. */
function blockMath(state: BlockState, startLine: number, endLine: number, silent: boolean): boolean {
  const lineText = (line: number): string =>
    state.src.slice((state.bMarks[line] ?? 0) + (state.tShift[line] ?? 0), state.eMarks[line]);
  const first = lineText(startLine);
  if (!first.startsWith('$$')) return false;
  let body = first.slice(2);
  let last = startLine;
  if (body.trimEnd().endsWith('$$') && body.trim().length >= 2) {
    body = body.trimEnd().slice(0, -2);
  } else {
    const lines: string[] = [body];
    let found = false;
    for (let line = startLine + 1; line < endLine; line++) {
      const text = lineText(line);
      if (text.trimEnd().endsWith('$$')) {
        lines.push(text.trimEnd().slice(0, -2));
        last = line;
        found = true;
        break;
      }
      lines.push(text);
    }
    if (!found) return false;
    body = lines.join('\n');
  }
  if (silent) return true;
  const token = state.push('math_block', 'math', 0);
  token.content = body;
  token.markup = '$$';
  token.map = [startLine, last + 1];
  token.block = true;
  state.line = last + 1;
  return true;
}

/**
 * A markdown-it plugin for TeX math in guides and doc comments: `$…$` inline, `$$…$$` displayed, rendered with
 * KaTeX when the site is built (the KaTeX stylesheet and fonts are copied into the site).
 */
export function mathPlugin(parser: unknown): void {
  const md = parser as MarkdownParser;
  md.inline.ruler.before('escape', 'math_inline', inlineMath);
  md.block.ruler.before('fence', 'math_block', blockMath, {
    alt: ['paragraph', 'reference', 'blockquote', 'list'],
  });
  md.renderer.rules.math_inline = (tokens, idx) => renderTex(tokens[idx]?.content ?? '', false);
  md.renderer.rules.math_display_inline = (tokens, idx) => renderTex(tokens[idx]?.content ?? '', true);
  md.renderer.rules.math_block = (tokens, idx) =>
    `<div class="math-display">${renderTex(tokens[idx]?.content ?? '', true)}</div>\n`;
}
