import { checkpointError } from './checkpoint-error.js';
import { DTYPE_BYTES, type TorchDType } from './torch-dtype.js';
import type { TorchTensorRef } from './torch-tensor-ref.js';
import { type StorageUse, unpickleTorch } from './torch-unpickler.js';
import { type InflateBudget, ZipArchive } from './zip-archive.js';

/** A storage of a zip-format file: the entry `<archive>/data/<key>`. */
export interface ZipStorage {
  readonly dtype: TorchDType;
  /** Number of elements. */
  readonly numel: number;
}

/** The parts of a zip-format file. */
export interface ZipContents {
  root: unknown;
  tensors: Map<TorchTensorRef, StorageUse>;
  archive: ZipArchive;
  /** Storages by entry name. */
  storages: Map<string, ZipStorage>;
}

/**
 * Reads the layout of a file written by `torch.save` in the zip format (the default since PyTorch 1.6), as `_load`
 * in torch/serialization.py does: a zip archive with one top-level folder `<archive>/` holding `data.pkl` (the
 * object; persistent ids `('storage', storage_type, key, location, numel)`), one entry `data/<key>` per storage
 * with its raw little-endian bytes, and optionally `byteorder` (must be `little`). Each storage entry's declared
 * size must be numel × element size; storages are not read yet.
 *
 * @param bytes - the whole file.
 * @param file - name of the file, for error messages.
 * @param budget - limits on inflating `data.pkl` (and `byteorder`) if they are deflated.
 * @throws SbmArgumentError naming the file and the entry at fault.
 */
export function readZipFormat(bytes: Uint8Array, file: string, budget: InflateBudget): ZipContents {
  const archive = ZipArchive.open(bytes, file);
  const pickles = [...archive.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw checkpointError(
      file,
      undefined,
      pickles.length === 0
        ? 'the zip archive has no <archive>/data.pkl: not a torch.save checkpoint'
        : `the zip archive has several data.pkl entries (${pickles.join(', ')})`,
    );
  }
  const pickleEntry = pickles[0]!;
  const prefix = pickleEntry.slice(0, -'data.pkl'.length);
  const byteOrderEntry = `${prefix}byteorder`;
  if (archive.entries.has(byteOrderEntry)) {
    const order = new TextDecoder().decode(archive.read(byteOrderEntry, budget));
    if (order !== 'little')
      throw checkpointError(file, byteOrderEntry, `byte order '${order}' is not supported (only little)`);
  }
  const { root, tensors } = unpickleTorch(
    archive.read(pickleEntry, budget),
    file,
    pickleEntry,
    'zip',
    (key) => `${prefix}data/${key}`,
  );

  const storages = new Map<string, ZipStorage>();
  for (const use of tensors.values()) {
    const name = `${prefix}data/${use.key}`;
    const seen = storages.get(name);
    if (seen !== undefined) {
      if (seen.dtype !== use.dtype || seen.numel !== use.numel) {
        throw checkpointError(
          file,
          name,
          `the pickle declares the storage both as ${seen.numel} × ${seen.dtype} and as ${use.numel} × ${use.dtype}`,
        );
      }
      continue;
    }
    const entry = archive.entries.get(name);
    if (entry === undefined)
      throw checkpointError(file, name, 'storage used by a tensor is missing from the archive');
    const expectedBytes = use.numel * DTYPE_BYTES[use.dtype];
    if (entry.size !== expectedBytes) {
      throw checkpointError(
        file,
        name,
        `holds ${entry.size} bytes but the pickle declares ${use.numel} × ${use.dtype} (${expectedBytes} bytes)`,
      );
    }
    storages.set(name, { dtype: use.dtype, numel: use.numel });
  }
  return { root, tensors, archive, storages };
}
