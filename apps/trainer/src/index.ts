// The trainer's library API; the `sbm` command line (src/cli) is a thin layer over it.

export { type CheckpointDir, latestCheckpoint, openCheckpointDir } from './checkpoint/checkpoint-dir.js';
export { CheckpointError } from './checkpoint/checkpoint-error.js';
export { readCheckpoint, writeCheckpoint } from './checkpoint/checkpoint-file.js';
export {
  exportModel,
  exportTrainStateModel,
  isImageModelInfo,
  loadExportedModel,
  modelAdapterOptions,
  modelSampleShape,
  readModelInfo,
  type SbmModelInfo,
} from './checkpoint/export-model.js';
export {
  type AdamState,
  restoreTrainState,
  type TrainState,
  trainStateFromCheckpoint,
  trainStateToCheckpoint,
} from './checkpoint/train-state.js';
export { type OutputMode, Reporter, type ReporterOptions } from './cli/progress.js';
export { type CliIo, runCli, UsageError } from './cli/run-cli.js';
export { ConfigError } from './config/config-error.js';
export { type LoadConfigOptions, loadConfig } from './config/load.js';
export { resolveMlpConfig } from './config/mlp-config.js';
export { TRAINER_PRESET_NAMES, trainerPreset } from './config/presets.js';
export { type TrainerConfig, trainerConfigSchema } from './config/schema.js';
export { resolveUNetConfig } from './config/unet-config.js';
export { loadCifar10 } from './data/cifar10.js';
export { CIFAR10_MD5, CIFAR10_URL, downloadCifar10 } from './data/cifar10-download.js';
export { type ArrayDataset, createDataset } from './data/dataset.js';
export { loadImageFolder } from './data/image-folder.js';
export { loadMnist } from './data/mnist.js';
export { type Batch, type BatchPosition, createBatchStream, prefetch } from './data/pipeline.js';
export { type GaussianMixture2D, sampleToy } from './data/toy.js';
export { toyMixtureOfConfig } from './data/toy-mixture.js';
export {
  MNIST_DEMO_PRESET,
  type MnistDemoOptions,
  type MnistDemoResult,
  runMnistDemo,
} from './demo/mnist-demo.js';
export { formatDoctorReport, runDoctor } from './doctor/doctor.js';
export { assessGpuUse, decideGpuFallback } from './doctor/gpu-fallback.js';
export {
  type EvaluateLikelihoodOptions,
  evaluateLikelihood,
  type LikelihoodEvaluation,
} from './eval/bits-per-dim.js';
export { type DigitImages, datasetToDigitImages } from './eval/dataset-images.js';
export {
  classifyDigits,
  type DigitClassifier,
  trainDigitClassifier,
} from './eval/digit-classifier.js';
export { type DigitSampleMetrics, digitSampleMetrics, formatDigitMetrics } from './eval/digit-metrics.js';
export { type MixtureFit, mixtureFit, mixtureLogDensity } from './eval/mixture-fit.js';
export {
  loadEvaluationSet,
  loadTrainingSet,
  MNIST_EVAL_DIGITS,
  MNIST_TRAIN_DIGITS,
} from './run/load-dataset.js';
export { type TrainRunOptions, type TrainRunResult, trainRun } from './run/train-run.js';
export {
  createTrainingSetup,
  type NetworkArchitecture,
  type ScoreNetwork,
  type TrainingSetup,
} from './run/training-setup.js';
export { imageGrid, toImages } from './sample/image-grid.js';
export { decodePng, encodePng, type Image8 } from './sample/png-io.js';
export { pointsCsv } from './sample/points-csv.js';
export {
  type SampleBatchesOptions,
  type SampleImagesOptions,
  sampleBatches,
  sampleImages,
  shardBatches,
} from './sample/sample-images.js';
export { SAMPLERS, type SamplerName, samplerByName } from './sample/sampler-registry.js';
export { scatterPlot, scatterWindow } from './sample/scatter-plot.js';
export { parseShard, type Shard, shardFromEnvironment, shardRange } from './sample/shard.js';
export { writePointSamples } from './sample/write-point-samples.js';
export { ExponentialMovingAverage } from './train/ema.js';
export { lossForConfig, type TrainingLoss, unetNetwork } from './train/loss-for-config.js';
export {
  createMlpNetwork,
  loadMlpNetwork,
  type MlpConfig,
  MlpNetwork,
  mlpNetwork,
} from './train/mlp-network.js';
export { ScoreSdeAdam } from './train/optimizer.js';
export { NonFiniteLossError, trainStep } from './train/train-step.js';
export { trainableVariables } from './train/variables.js';
