import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsyncDirectory, parseTempName, tempPathFor, writeFileAtomic } from './atomic-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbm-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tempPathFor / parseTempName', () => {
  it('names a unique sibling temp file carrying the pid, and parses it back', () => {
    const a = tempPathFor('/runs/x/ckpt-00000010.sbmckpt', 4242);
    const b = tempPathFor('/runs/x/ckpt-00000010.sbmckpt', 4242);
    expect(a).toMatch(/^\/runs\/x\/ckpt-00000010\.sbmckpt\.tmp-4242-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(parseTempName(a)).toEqual({ target: 'ckpt-00000010.sbmckpt', pid: 4242 });
    expect(parseTempName('ckpt-00000010.sbmckpt')).toBeUndefined();
    expect(parseTempName('ckpt.sbmckpt.tmp-12-xyz')).toBeUndefined();
  });
});

describe('writeFileAtomic', () => {
  it('creates and replaces a file, leaving no temp file', async () => {
    const path = join(dir, 'a.txt');
    await writeFileAtomic(path, async (h) => {
      await h.write('first');
    });
    await writeFileAtomic(path, async (h) => {
      await h.write('second');
    });
    expect(await readFile(path, 'utf8')).toBe('second');
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('on a failing writer removes the temp file and keeps the old content', async () => {
    const path = join(dir, 'b.txt');
    await writeFile(path, 'old');
    await expect(
      writeFileAtomic(path, async (h) => {
        await h.write('partial new con');
        throw new Error('writer failed');
      }),
    ).rejects.toThrow('writer failed');
    expect(await readFile(path, 'utf8')).toBe('old');
    expect((await readdir(dir)).filter((f) => f.startsWith('b.txt'))).toEqual(['b.txt']);
  });

  it('fsyncDirectory accepts an existing directory and throws for a missing one', async () => {
    await fsyncDirectory(dir);
    await expect(fsyncDirectory(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });
});
