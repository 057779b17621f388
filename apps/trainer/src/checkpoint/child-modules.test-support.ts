import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * Transpiles modules of this folder (which import only Node built-ins and each other) to plain ES modules in
 * `outDir`, so that a real `node` child process can run the very code under test (Node 20 cannot run
 * TypeScript). Types are stripped; nothing else changes.
 */
export async function transpileForChild(outDir: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const source = await readFile(new URL(`./${file}`, import.meta.url), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    await writeFile(join(outDir, file.replace(/\.ts$/, '.js')), outputText);
  }
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}\n');
}
