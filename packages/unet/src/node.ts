export {
  type ConvertOptions,
  convertScoreSdeCheckpoint,
  runConvertCli,
} from './convert-checkpoint.js';
export { fileSystemIO } from './fs-io.js';
