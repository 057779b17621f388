import { setupBackend } from '@sbm/backend';
import { classifierFreeGuidance } from '@sbm/guidance';
import { ddimSample, wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
import { createUNet, unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import { markdownTable } from './timing.js';

/**
 * What classifier-free guidance costs: a guided DDIM run at batch B evaluates the network once per step on 2B
 * inputs (conditional and unconditional halves in one call), so it should cost what an unguided run at batch 2B
 * costs, plus the combination `u + w (c − u)`. Measured on @sbm/unet's class-conditional `tiny/ddpm` network
 * (random weights: speed does not depend on them) on wasm.
 */
export async function guidanceBench(): Promise<string> {
  await setupBackend({ prefer: 'wasm', importModule: (name) => import(name) });
  const sde = new VPSDE();
  const numClasses = 10;
  const net = createUNet(unetPreset('tiny/ddpm', { numClasses, imageSize: 32 }));
  const adapter = wrapModel(net.model, { sde, prediction: 'eps', timeInput: 'index', numTrainSteps: 1000 });
  const guided = classifierFreeGuidance(adapter, { scale: 3, nullLabel: numClasses, numClasses });
  const steps = 10;
  const rows: (string | number)[][] = [];
  const runs = 3;
  const time = async (name: string, model: typeof adapter, batch: number) => {
    const labels = tf.tensor1d(
      Int32Array.from({ length: batch }, (_, i) => i % numClasses),
      'int32',
    );
    const once = async () => {
      const r = await ddimSample({ sde, model, shape: [batch, 32, 32, 3], steps, seed: 1, labels });
      await r.samples.data();
      r.samples.dispose();
      return r.nfe;
    };
    await once(); // warm-up
    const start = performance.now();
    let nfe = 0;
    for (let i = 0; i < runs; i++) nfe = await once();
    const ms = (performance.now() - start) / runs;
    labels.dispose();
    rows.push([name, batch, nfe, ms.toFixed(0), (ms / nfe).toFixed(1)]);
    return ms;
  };
  const b = 8;
  // Interleave so that drift in the machine's load affects both alike.
  let unguided = 0;
  let guidedMs = 0;
  for (let round = 0; round < 2; round++) {
    unguided += await time('conditional, unguided', adapter, 2 * b);
    guidedMs += await time('classifier-free guidance (w = 3)', guided, b);
  }
  net.dispose();
  const overhead = (guidedMs / unguided - 1) * 100;
  return [
    `@sbm/unet tiny/ddpm with ${numClasses} classes, 32×32×3, DDIM ${steps} steps, backend ${tf.getBackend()}; mean of ${runs} runs after a warm-up, two interleaved rounds.`,
    '',
    markdownTable(['model', 'batch', 'NFE', 'ms per run', 'ms per evaluation'], rows),
    '',
    `Guided at batch ${b} against unguided at batch ${2 * b} (the same network inputs per step): ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)} % (goal: at most +5 %).`,
  ].join('\n');
}
