#!/usr/bin/env node
// sbm-unet-convert: converts a score_sde_pytorch checkpoint into a tfjs model directory.
import * as tf from '@tensorflow/tfjs-core';
import { runConvertCli } from './convert-checkpoint.js';

try {
  await import('@tensorflow/tfjs-backend-cpu');
} catch {
  console.error(
    'sbm-unet-convert needs a tfjs backend: npm install @tensorflow/tfjs (or @tensorflow/tfjs-backend-cpu)',
  );
  process.exit(1);
}
await tf.setBackend('cpu');
// The cpu backend prints an "install tfjs-node" banner on first use; this tool uses it on purpose.
(tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
process.exitCode = await runConvertCli(process.argv.slice(2));
