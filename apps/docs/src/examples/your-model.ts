// Examples of the guide "Use @sbm/samplers with the model you already have" (guides/your-model.md).
// Run by your-model.test.ts.
import {
  type DPMSolverPlusPlusState,
  DPMSolverPlusPlusStepper,
  ddimSample,
  dpmSolverPlusPlusSample,
  type ModelObject,
  type SampleResult,
  wrapModel,
} from '@sbm/samplers';
import {
  discreteMarginals,
  discreteSchedule,
  discreteTimesteps,
  expandToRank,
  linearBetas,
  type SDE,
  VPSDE,
} from '@sbm/sde';
import { createUNet, registerUNetLayers, type UNet, unetPreset } from '@sbm/unet';
import { fileSystemIO } from '@sbm/unet/node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

// #region function
/**
 * Any function `(x, t) => Tensor` is a model. This one predicts the noise ε
 * of Gaussian data N(0, dataStd² I) exactly (`epsHat = σ(t) x / (α(t)²
 * dataStd² + σ(t)²)`); in practice it is your network called directly.
 */
export function epsFunction(sde: SDE, dataStd: number) {
  return (x: tf.Tensor, t: tf.Tensor1D): tf.Tensor =>
    tf.tidy(() => {
      const times = Array.from(t.dataSync());
      const c = times.map((ti) => sde.sigma(ti) / ((sde.alpha(ti) * dataStd) ** 2 + sde.sigma(ti) ** 2));
      return tf.mul(x, expandToRank(tf.tensor1d(c), x.rank)); // x [B, ...], t [B] → [B, ...]
    });
}

/**
 * Wraps the function for the samplers; draws DPM-Solver++(2M) samples
 * `[...shape]`.
 */
export async function sampleFromFunction(shape: number[], seed: number): Promise<SampleResult> {
  const sde = new VPSDE();
  // its t is the SDE time, the default timeInput
  const model = wrapModel(epsFunction(sde, 2), { sde, prediction: 'eps' });
  return dpmSolverPlusPlusSample({ sde, model, shape, steps: 20, seed });
}
// #endregion function

// #region layers-save
/**
 * Builds a small @sbm/unet network (a tfjs LayersModel with inputs x [B, 8,
 * 8, 3] and t [B]) and saves it.
 */
export async function buildAndSave(dir: string): Promise<UNet> {
  const net = createUNet(unetPreset('tiny/ddpm')); // ε-network; t is the DDPM step 0…999
  // …train it here…
  await net.model.save(fileSystemIO(dir)); // model.json + weights.bin; no tfjs-node needed
  return net;
}
// #endregion layers-save

// #region layers-load
/**
 * In another program: reload the LayersModel and sample from it with 10
 * DDIM steps.
 */
export async function sampleFromSavedLayersModel(dir: string, seed: number): Promise<SampleResult> {
  registerUNetLayers(); // the network's custom layers must be known before loading
  const layersModel = await tfl.loadLayersModel(fileSystemIO(dir));
  const sde = new VPSDE();
  // timeInput 'index': the model is given t · 999, the DDPM step it was trained with
  const model = wrapModel(layersModel, { sde, prediction: 'eps', timeInput: 'index' });
  try {
    return await ddimSample({ sde, model, shape: [2, 8, 8, 3], steps: 10, seed });
  } finally {
    layersModel.dispose();
  }
}
// #endregion layers-load

// #region graph
/**
 * Samples from a GraphModel converted from Python (`tensorflowjs_converter`
 * output loaded with `loadGraphModel`): an ε-network of a DDPM with 1000
 * steps, inputs `x` float32 `[B, 3, H, W]` (channels first, as exported
 * from PyTorch) and `t` int32 `[B]`. The samples come back as `[B, H, W,
 * 3]`.
 */
export async function sampleFromGraphModel(
  graph: ModelObject,
  shape: number[],
  seed: number,
): Promise<SampleResult> {
  // The DDPM's own schedule; its time is the step index 0…999, the int32 value the graph expects.
  const marginals = discreteMarginals(discreteSchedule(linearBetas(1000)));
  const model = wrapModel(graph, { sde: marginals, prediction: 'eps', layout: 'NCHW' });
  model.checkInputShape(shape); // fails early, with a hint, if [B, H, W, C] does not fit the graph
  return ddimSample({
    sde: marginals,
    model,
    shape,
    timesteps: discreteTimesteps(1000, 50, 'trailing'),
    seed,
  });
}
// #endregion graph

// #region stepper
/**
 * Your own sampling loop with the stateless DPM-Solver++(2M) stepper: you
 * call the model, the stepper only does the arithmetic. `epsModel(x, t)`
 * returns the predicted noise for the state `x [B, ...]` at time `t`; `xT`
 * is not disposed.
 */
export function ownLoop(
  sde: SDE,
  epsModel: (x: tf.Tensor, t: number) => tf.Tensor,
  xT: tf.Tensor,
  steps: number,
) {
  const solver = new DPMSolverPlusPlusStepper({ sde, steps, prediction: 'eps' });
  let x = tf.clone(xT);
  let state: DPMSolverPlusPlusState | undefined;
  for (const info of solver.schedule()) {
    const eps = epsModel(x, info.t);
    const out = solver.step(eps, info, x, state); // consumes the previous state
    tf.dispose([eps, out.denoised, x]);
    x = out.prevSample;
    state = out.state;
  }
  solver.release(state); // the last state's tensors
  return x;
}
// #endregion stepper
