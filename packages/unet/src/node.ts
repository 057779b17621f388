/**
 * The Node-only part of `@sbm/unet`: a tfjs IO handler for folders (`fileSystemIO`), loading score_sde_pytorch
 * checkpoints from disk and the `sbm-unet-convert` command line.
 *
 * @module @sbm/unet/node
 */
export {
  type ConvertOptions,
  convertScoreSdeCheckpoint,
  runConvertCli,
} from './convert-checkpoint.js';
export { fileSystemIO } from './fs-io.js';
