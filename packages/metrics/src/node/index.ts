/**
 * The Node-only part of `@sbm/metrics`: reading PNG/JPEG files, image folders and CIFAR-10 batches, measuring images
 * with the FID Inception network, and the `sbm-metrics` command line (`runMetricsCli`).
 *
 * @module @sbm/metrics/node
 */
// File formats that the metrics CLI reads in Node (image files, CIFAR-10 binary batches).

export { type CliIo, type CliStream, runMetricsCli, UsageError, WEIGHTS_ENV } from '../cli/run-cli.js';
export {
  CIFAR10_CLASSES,
  CIFAR10_IMAGE_BYTES,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILES,
  CIFAR10_TRAIN_FILES,
  type Cifar10Batch,
  type Cifar10Target,
  cifar10RecordCount,
  parseCifar10Batch,
} from './cifar10-batch.js';
export { type DecodedImage, decodeImage, IMAGE_EXTENSIONS, rgbUnitFloats } from './image-file.js';
export {
  type ImageBatch,
  type ImageSource,
  type ImageSourceOptions,
  openImageSource,
} from './image-source.js';
export { type ImageMeasurements, type MeasureImagesOptions, measureImages } from './measure-images.js';
