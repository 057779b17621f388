import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCifar10 } from './cifar10.js';
import { type DownloadProgress, downloadCifar10 } from './cifar10-download.js';

// ---- a tar.gz in the real layout, written from the POSIX ustar specification ----

function ustarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(type === '5' ? '0000755\0' : '0000644\0', 100, 'ascii'); // mode
  h.write('0000000\0', 108, 'ascii'); // uid
  h.write('0000000\0', 116, 'ascii'); // gid
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii'); // size, octal
  h.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 'ascii'); // mtime
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function tar(files: ReadonlyArray<[string, Uint8Array]>): Buffer {
  const parts: Buffer[] = [ustarHeader('cifar-10-batches-bin/', 0, '5')];
  for (const [name, data] of files) {
    parts.push(ustarHeader(`cifar-10-batches-bin/${name}`, data.length, '0'), Buffer.from(data));
    const pad = (512 - (data.length % 512)) % 512;
    parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(parts);
}

function tarGz(files: ReadonlyArray<[string, Uint8Array]>): Buffer {
  return gzipSync(tar(files));
}

/** Tiny batches: `data_batch_k.bin` holds k records, `test_batch.bin` 2; pseudo-random pixels. */
function makeBatches(): Array<[string, Uint8Array]> {
  let state = 12345;
  const byte = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 24;
  };
  const batch = (n: number): Uint8Array => {
    const b = new Uint8Array(n * 3073);
    for (let i = 0; i < b.length; i++) b[i] = i % 3073 === 0 ? byte() % 10 : byte();
    return b;
  };
  const files: Array<[string, Uint8Array]> = [];
  for (let k = 1; k <= 5; k++) files.push([`data_batch_${k}.bin`, batch(k)]);
  files.push(['test_batch.bin', batch(2)]);
  files.push([
    'batches.meta.txt',
    new TextEncoder().encode('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n'),
  ]);
  return files;
}

const files = makeBatches();
const archive = tarGz(files);
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const archiveMd5 = md5(archive);

// ---- a local HTTP server ----

interface Served {
  range: string | undefined;
  bytesSent: number;
}
let server: Server;
let baseUrl: string;
let body: Buffer = archive;
/** When set, the next response is cut (socket destroyed) after this many body bytes. */
let dropAfter: number | null = null;
let ignoreRange = false;
let requests: Served[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== '/cifar-10-binary.tar.gz') {
      res.writeHead(404).end();
      return;
    }
    const record: Served = { range: req.headers.range, bytesSent: 0 };
    requests.push(record);
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m !== null && !ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'Content-Length': body.length - start,
        'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else {
      res.writeHead(200, { 'Content-Length': body.length });
    }
    const rest = body.subarray(start);
    if (dropAfter !== null) {
      const cut = rest.subarray(0, dropAfter);
      dropAfter = null;
      record.bytesSent = cut.length;
      // Give the client time to take the bytes in: fetch discards chunks still queued in its body stream
      // when the connection errors (they would simply be fetched again on resume).
      res.write(cut, () => setTimeout(() => res.socket?.destroy(), 150));
      return;
    }
    record.bytesSent = rest.length;
    res.end(rest);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cifar10-dl-'));
  dir = join(root, 'data');
  body = archive;
  dropAfter = null;
  ignoreRange = false;
  requests = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const url = (): string => `${baseUrl}/cifar-10-binary.tar.gz`;
const noNetwork: typeof fetch = async () => {
  throw new Error('the network must not be used here');
};

async function expectComplete(): Promise<void> {
  expect(await readdir(dir)).toEqual(['cifar-10-batches-bin']);
  const target = join(dir, 'cifar-10-batches-bin');
  expect((await readdir(target)).sort()).toEqual(files.map(([n]) => n).sort());
  for (const [name, data] of files) {
    expect(Buffer.compare(await readFile(join(target, name)), data), name).toBe(0);
  }
}

describe('downloadCifar10', () => {
  it('downloads, verifies and unpacks into <dir>/cifar-10-batches-bin, leaving nothing else', async () => {
    const progress: DownloadProgress[] = [];
    const result = await downloadCifar10({
      dir,
      url: url(),
      md5: archiveMd5,
      onProgress: (p) => progress.push(p),
    });
    expect(result).toEqual({ path: join(dir, 'cifar-10-batches-bin'), downloaded: true, fromFile: false });
    await expectComplete();
    expect(requests).toHaveLength(1);
    expect(requests[0]!.range).toBeUndefined();
    const last = progress.filter((p) => p.phase === 'download').at(-1);
    expect(last).toEqual({ phase: 'download', bytes: archive.length, totalBytes: archive.length });
    expect(progress.map((p) => p.phase)).toContain('extract');
    const train = await loadCifar10(result.path, 'train');
    expect(train.size).toBe(1 + 2 + 3 + 4 + 5);
  });

  it('rejects a checksum mismatch and deletes the download', async () => {
    const wrong = md5(Buffer.from('not the archive'));
    await expect(downloadCifar10({ dir, url: url(), md5: wrong })).rejects.toThrow(
      new RegExp(`has MD5 ${archiveMd5}, expected ${wrong}; the corrupt download was deleted`),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('resumes a dropped transfer with a Range request, without re-sending received bytes', async () => {
    dropAfter = 20_000;
    await expect(downloadCifar10({ dir, url: url(), md5: archiveMd5 })).rejects.toThrow(
      /interrupted after \d+ of \d+ bytes .* is kept, run again to resume/,
    );
    const partial = join(dir, 'cifar-10-binary.tar.gz.partial');
    const have = (await stat(partial)).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThanOrEqual(20_000);
    expect(await readdir(dir)).toEqual(['cifar-10-binary.tar.gz.partial']);

    const result = await downloadCifar10({ dir, url: url(), md5: archiveMd5 });
    expect(result.downloaded).toBe(true);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.range).toBe(`bytes=${have}-`);
    expect(requests[1]!.bytesSent).toBe(archive.length - have);
    await expectComplete();
  });

  it('starts over when the server ignores the Range request', async () => {
    dropAfter = 10_000;
    await expect(downloadCifar10({ dir, url: url(), md5: archiveMd5 })).rejects.toThrow(/interrupted/);
    const have = (await stat(join(dir, 'cifar-10-binary.tar.gz.partial'))).size;
    expect(have).toBeGreaterThan(0);
    ignoreRange = true;
    await downloadCifar10({ dir, url: url(), md5: archiveMd5 });
    expect(requests[1]!.range).toBe(`bytes=${have}-`);
    expect(requests[1]!.bytesSent).toBe(archive.length);
    await expectComplete();
  });

  it('rejects a truncated archive (even with a matching checksum) and leaves nothing behind', async () => {
    body = archive.subarray(0, archive.length - 3000);
    await expect(downloadCifar10({ dir, url: url(), md5: md5(body) })).rejects.toThrow(
      /cannot unpack .*cifar-10-binary\.tar\.gz.*: cifar-10-binary\.tar\.gz\.partial is not a valid tar\.gz archive/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects a complete gzip stream holding a truncated tar, leaving nothing behind', async () => {
    body = gzipSync(tar(files).subarray(0, 8000));
    await expect(downloadCifar10({ dir, url: url(), md5: md5(body) })).rejects.toThrow(
      /is not a valid tar\.gz archive/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects an archive that lacks a batch file and leaves nothing behind', async () => {
    body = tarGz(files.filter(([n]) => n !== 'data_batch_3.bin'));
    await expect(downloadCifar10({ dir, url: url(), md5: md5(body) })).rejects.toThrow(
      /the archive lacks cifar-10-batches-bin\/data_batch_3\.bin/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports an HTTP error naming the URL', async () => {
    await expect(downloadCifar10({ dir, url: `${baseUrl}/missing`, md5: archiveMd5 })).rejects.toThrow(
      `downloadCifar10: GET ${baseUrl}/missing failed with HTTP 404`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('unpacks a local archive file without using the network and keeps the file', async () => {
    const local = join(root, 'cifar-10-binary.tar.gz');
    await writeFile(local, archive);
    const result = await downloadCifar10({ dir, file: local, md5: archiveMd5, fetch: noNetwork });
    expect(result).toEqual({ path: join(dir, 'cifar-10-batches-bin'), downloaded: true, fromFile: true });
    await expectComplete();
    expect(md5(await readFile(local))).toBe(archiveMd5);
    await expect(
      downloadCifar10({
        dir: join(root, 'other'),
        file: local,
        md5: md5(Buffer.from('x')),
        fetch: noNetwork,
      }),
    ).rejects.toThrow(new RegExp(`${local} has MD5 ${archiveMd5}`));
    expect(await readdir(join(root, 'other'))).toEqual([]);
    expect(md5(await readFile(local))).toBe(archiveMd5);
  });

  it('does nothing when the dataset is already present, and removes stale temporary directories', async () => {
    await downloadCifar10({ dir, url: url(), md5: archiveMd5 });
    const stale = join(dir, '.cifar-10-batches-bin.tmp-deadbeef');
    await mkdir(join(stale, 'cifar-10-batches-bin'), { recursive: true });
    await writeFile(join(stale, 'cifar-10-batches-bin', 'data_batch_1.bin'), 'half');
    const result = await downloadCifar10({ dir, url: url(), md5: archiveMd5, fetch: noNetwork });
    expect(result.downloaded).toBe(false);
    expect(requests).toHaveLength(1);
    await expectComplete();
  });

  it('refuses an existing but incomplete dataset directory', async () => {
    await mkdir(join(dir, 'cifar-10-batches-bin'), { recursive: true });
    await expect(downloadCifar10({ dir, url: url(), fetch: noNetwork })).rejects.toThrow(
      /cifar-10-batches-bin exists but lacks cifar-10-batches-bin\/data_batch_1\.bin; delete it/,
    );
  });

  it('validates the md5 argument', async () => {
    await expect(downloadCifar10({ dir, url: url(), md5: 'abc' })).rejects.toThrow(
      /md5 must be 32 hex digits/,
    );
  });
});
