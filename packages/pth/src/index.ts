/**
 * {@include ../README.md#site}
 *
 * @module @sbm/pth
 */
export { crc32 } from './crc32.js';
export {
  TorchCheckpoint,
  type TorchCheckpointFormat,
  type TorchCheckpointOptions,
} from './torch-checkpoint.js';
export type { TorchDType } from './torch-dtype.js';
export { TorchTensorRef } from './torch-tensor-ref.js';
export type { PickleGlobal } from './torch-unpickler.js';
export { type InflateBudget, ZipArchive, type ZipEntry, type ZipReadOptions } from './zip-archive.js';
