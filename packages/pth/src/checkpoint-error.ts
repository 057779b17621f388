import { SbmArgumentError } from '@sbm/sde';

/**
 * The error for a malformed or hostile file read by this package — a checkpoint, or any zip archive read with
 * `ZipArchive` (such as a numpy `.npz`): an {@link SbmArgumentError} on the argument `bytes` whose message names the
 * file and, when known, the part of it at fault (a zip entry such as `archive/data/3` or `sigma.npy`, a legacy
 * storage key, a pickle, or a tensor's path in the object), e.g. `bytes: model.pth: archive/data/3: ...`.
 *
 * @param file - name of the file (e.g. the `name` option of `TorchCheckpoint.parse`, `<bytes>` by default).
 * @param where - the entry, pickle or tensor at fault, or `undefined` for the file as a whole.
 * @param message - what is wrong.
 */
export function checkpointError(file: string, where: string | undefined, message: string): SbmArgumentError {
  return new SbmArgumentError('bytes', `${file}: ${where === undefined ? '' : `${where}: `}${message}`);
}
