import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainerConfig } from './schema.js';

/** File name of the resolved config inside a run directory. */
export const RESOLVED_CONFIG_FILE = 'config.json';

/**
 * Writes the resolved config to `<runDir>/config.json` (pretty JSON, trailing newline), atomically: it is
 * written to a temporary file in the same directory and renamed over the target, so a reader never sees a
 * half-written file. Creates `runDir` if needed. Returns the file's path. Reading it back with
 * `loadConfig({ file })` gives the same config.
 */
export async function writeResolvedConfig(runDir: string, config: TrainerConfig): Promise<string> {
  await mkdir(runDir, { recursive: true });
  const target = join(runDir, RESOLVED_CONFIG_FILE);
  const temp = join(runDir, `.${RESOLVED_CONFIG_FILE}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, 'utf8');
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return target;
}
