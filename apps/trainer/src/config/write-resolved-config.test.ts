import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainerPreset } from './presets.js';
import { validateConfig } from './validate-config.js';
import { RESOLVED_CONFIG_FILE, writeResolvedConfig } from './write-resolved-config.js';

describe('writeResolvedConfig', () => {
  it('writes pretty JSON to <runDir>/config.json via a temp file and rename', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sbm-write-'));
    try {
      const config = validateConfig(trainerPreset('toy/mixture'));
      const path = await writeResolvedConfig(join(dir, 'run'), config);
      expect(path).toBe(join(dir, 'run', RESOLVED_CONFIG_FILE));
      const text = await readFile(path, 'utf8');
      expect(text.endsWith('}\n')).toBe(true);
      expect(JSON.parse(text)).toEqual(config);
      expect(await readdir(join(dir, 'run'))).toEqual(['config.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
