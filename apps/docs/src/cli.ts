#!/usr/bin/env node
import { buildSite } from './build-site.js';

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 ? args[outIndex + 1] : undefined;
if (args.includes('--help')) {
  console.log(
    'usage: pnpm run docs [-- --out <folder>]   builds the documentation site (default apps/docs/site)',
  );
  process.exit(0);
}
try {
  await buildSite(outDir ? { outDir } : {});
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
