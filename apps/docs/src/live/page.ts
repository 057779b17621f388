import { wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
import type * as tf from '@tensorflow/tfjs-core';
import { startBackend } from './backend.js';
import { energyDistance } from './energy-distance.js';
import { expectedNfe, SAMPLER_IDS, SAMPLER_INFO, type SamplerId } from './expected-nfe.js';
import { LIVE_MIXTURE, mixtureScore, sampleMixture } from './mixture.js';
import { LossPlot, type PointsFrame, PointsPlot } from './plot.js';
import { createLiveRng } from './rng.js';
import { runSampler } from './run-sampler.js';
import { ScoreNet } from './score-net.js';
import { ScoreTrainer } from './trainer.js';

type Attributes = Record<string, string | number | boolean | undefined>;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children);
  return node;
}

function field(label: string, control: HTMLElement, after?: HTMLElement): HTMLLabelElement {
  return el('label', { class: 'sbm-live-field' }, [
    el('span', { class: 'sbm-live-label' }, [label]),
    el('span', { class: 'sbm-live-control' }, after ? [control, after] : [control]),
  ]);
}

/** Resolves at the next animation frame (or after 100 ms, when the page is hidden and frames stop). */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 100);
    requestAnimationFrame(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function readInt(input: HTMLInputElement, min: number, max: number, fallback: number): number {
  const v = Math.round(Number(input.value));
  const value = Number.isFinite(v) ? Math.min(Math.max(v, min), max) : fallback;
  input.value = String(value);
  return value;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function finiteRows(values: ArrayLike<number>, dim: number): number {
  let n = 0;
  for (let i = 0; i + dim <= values.length; i += dim) {
    let ok = true;
    for (let d = 0; d < dim; d++) if (!Number.isFinite(values[i + d]!)) ok = false;
    if (ok) n++;
  }
  return n;
}

const REFERENCE_SIZE = 1000;
const ENERGY_POINTS = 2000;

/**
 * Builds the live page inside `root`: the sampling panel (sampler picker, step slider, points, seed; the points
 * drawn at every step over the exact marginal density; NFE, time, energy distance), the training panel (a tiny
 * ε-network trained with denoising score matching, its loss curve drawn live; sampling from it), and one status
 * element whose data attributes record every finished run for tests.
 */
export async function mountLivePage(root: HTMLElement): Promise<void> {
  const sde = new VPSDE();
  const mixture = LIVE_MIXTURE;
  const exactScore = mixtureScore(mixture, sde);

  // ---- DOM -------------------------------------------------------------------------------------------------
  const backendLine = el('p', { id: 'sbm-live-backend', class: 'sbm-live-backend' }, [
    'Starting the backend…',
  ]);
  const sampler = el(
    'select',
    { id: 'sbm-live-sampler' },
    SAMPLER_IDS.map((id) => el('option', { value: id }, [SAMPLER_INFO[id].label])),
  );
  sampler.value = 'dpm-solver-pp-2m';
  const steps = el('input', { id: 'sbm-live-steps', type: 'range', min: 1, max: 100, step: 1, value: 20 });
  const stepsOut = el('output', { id: 'sbm-live-steps-value', for: 'sbm-live-steps' }, ['20']);
  const points = el('input', {
    id: 'sbm-live-points',
    type: 'number',
    min: 100,
    max: 5000,
    step: 100,
    value: 1000,
  });
  const seed = el('input', {
    id: 'sbm-live-seed',
    type: 'number',
    min: 0,
    max: 1_000_000,
    step: 1,
    value: 0,
  });
  const animate = el('input', { id: 'sbm-live-animate', type: 'checkbox', checked: true });
  const run = el('button', { id: 'sbm-live-run', type: 'button', disabled: true }, ['Sample (exact score)']);
  const runTrained = el('button', { id: 'sbm-live-run-trained', type: 'button', disabled: true }, [
    'Sample (trained net)',
  ]);
  const stop = el('button', { id: 'sbm-live-stop', type: 'button', disabled: true }, ['Stop']);
  const nfeRule = el('p', { id: 'sbm-live-rule', class: 'sbm-live-aside' });
  const canvas = el('canvas', { id: 'sbm-live-canvas', class: 'sbm-live-canvas', width: 480, height: 480 });
  const stat = (id: string) => el('dd', { id });
  const stats = {
    model: stat('sbm-live-stat-model'),
    sampler: stat('sbm-live-stat-sampler'),
    nfe: stat('sbm-live-stat-nfe'),
    time: stat('sbm-live-stat-time'),
    points: stat('sbm-live-stat-points'),
    energy: stat('sbm-live-stat-energy'),
  };
  const dl = el('dl', { class: 'sbm-live-stats' }, [
    el('dt', {}, ['Score']),
    stats.model,
    el('dt', {}, ['Sampler']),
    stats.sampler,
    el('dt', {}, ['NFE']),
    stats.nfe,
    el('dt', {}, ['Time']),
    stats.time,
    el('dt', {}, ['Points']),
    stats.points,
    el('dt', {}, ['Energy distance']),
    stats.energy,
  ]);
  const trainSteps = el('input', {
    id: 'sbm-live-train-steps',
    type: 'number',
    min: 10,
    max: 20000,
    step: 10,
    value: 2000,
  });
  const batch = el('input', {
    id: 'sbm-live-batch',
    type: 'number',
    min: 16,
    max: 2048,
    step: 16,
    value: 256,
  });
  const lr = el('input', {
    id: 'sbm-live-lr',
    type: 'number',
    min: 0.0001,
    max: 0.05,
    step: 0.0001,
    value: 0.005,
  });
  const train = el('button', { id: 'sbm-live-train', type: 'button', disabled: true }, ['Train']);
  const stopTrain = el('button', { id: 'sbm-live-train-stop', type: 'button', disabled: true }, ['Stop']);
  const lossCanvas = el('canvas', {
    id: 'sbm-live-loss',
    class: 'sbm-live-canvas sbm-live-loss',
    width: 640,
    height: 256,
  });
  const trainInfo = el('p', { id: 'sbm-live-train-info', class: 'sbm-live-aside' }, [
    'Not trained yet: the network starts from random weights.',
  ]);
  const status = el('p', {
    id: 'sbm-live-status',
    class: 'sbm-live-status',
    role: 'status',
    'aria-live': 'polite',
    'data-ready': 'false',
    'data-state': 'idle',
    'data-train-state': 'idle',
  });
  status.textContent = 'Loading…';

  root.classList.add('sbm-live');
  root.replaceChildren(
    backendLine,
    el('section', { class: 'sbm-live-panel', 'aria-label': 'Sampling' }, [
      el('h3', {}, ['Sampling']),
      el('div', { class: 'sbm-live-controls' }, [
        field('Sampler', sampler),
        field('Steps N', steps, stepsOut),
        field('Points', points),
        field('Seed', seed),
      ]),
      el('div', { class: 'sbm-live-buttons' }, [
        run,
        runTrained,
        stop,
        el('label', { class: 'sbm-live-check' }, [animate, 'Animate']),
      ]),
      nfeRule,
      el('div', { class: 'sbm-live-figure' }, [canvas, dl]),
    ]),
    el('section', { class: 'sbm-live-panel', 'aria-label': 'Training' }, [
      el('h3', {}, ['Training']),
      el('div', { class: 'sbm-live-controls' }, [
        field('Training steps', trainSteps),
        field('Batch', batch),
        field('Learning rate', lr),
      ]),
      el('div', { class: 'sbm-live-buttons' }, [train, stopTrain]),
      lossCanvas,
      trainInfo,
    ]),
    status,
  );

  const points2d = new PointsPlot(canvas, mixture);
  const lossPlot = new LossPlot(lossCanvas);
  // The last frame of each plot, redrawn when the theme or the width changes.
  let lastFrame: PointsFrame = { caption: 'p₀: the mixture' };
  let lastLosses: [number[], number[], number] = [[], [], readInt(trainSteps, 10, 20000, 2000)];
  const plot = {
    draw(frame: PointsFrame) {
      lastFrame = frame;
      points2d.draw(frame);
    },
  };
  const drawLosses = (losses: number[], smoothed: number[], total: number) => {
    lastLosses = [losses, smoothed, total];
    lossPlot.draw(losses, smoothed, total);
  };
  plot.draw(lastFrame);
  drawLosses(...lastLosses);

  const showRule = () => {
    const id = sampler.value as SamplerId;
    const n = readInt(steps, 1, 100, 20);
    stepsOut.textContent = String(n);
    nfeRule.textContent =
      id === 'ode-rk45'
        ? `NFE = ${SAMPLER_INFO[id].rule} (adaptive; N is not used)`
        : `NFE = ${SAMPLER_INFO[id].rule} = ${expectedNfe(id, n)}`;
  };
  sampler.addEventListener('change', showRule);
  steps.addEventListener('input', showRule);
  showRule();

  // ---- state -----------------------------------------------------------------------------------------------
  let busy = false;
  let backendName = '';
  let controller: AbortController | undefined;
  let net: ScoreNet | undefined;
  let stopTraining = false;
  const reference = sampleMixture(mixture, REFERENCE_SIZE, createLiveRng(20240601));

  const setBusy = (value: boolean) => {
    busy = value;
    run.disabled = value;
    runTrained.disabled = value || net === undefined;
    train.disabled = value;
    stop.disabled = !value;
    stopTrain.disabled = !value;
  };

  const setData = (values: Record<string, string | number | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) status.removeAttribute(`data-${key}`);
      else status.setAttribute(`data-${key}`, String(value));
    }
  };

  const onStop = () => {
    controller?.abort(new Error('stopped'));
    stopTraining = true;
  };
  stop.addEventListener('click', onStop);
  stopTrain.addEventListener('click', onStop);

  // ---- sampling --------------------------------------------------------------------------------------------
  const sample = async (model: 'exact' | 'trained') => {
    if (busy) return;
    const id = sampler.value as SamplerId;
    const n = readInt(steps, 1, 100, 20);
    const count = readInt(points, 100, 5000, 1000);
    const seedValue = readInt(seed, 0, 1_000_000, 0);
    const show = animate.checked;
    setBusy(true);
    controller = new AbortController();
    setData({
      state: 'running',
      sampler: id,
      steps: n,
      model,
      nfe: undefined,
      'expected-nfe': undefined,
      samples: undefined,
      ms: undefined,
      'draw-ms': undefined,
      accepted: undefined,
      rejected: undefined,
      energy: undefined,
      error: undefined,
    });
    status.textContent = `Sampling with ${SAMPLER_INFO[id].label}…`;
    stats.model.textContent = model === 'exact' ? 'exact mixture score' : 'trained network';
    stats.sampler.textContent = SAMPLER_INFO[id].label;
    for (const key of ['nfe', 'time', 'points', 'energy'] as const) stats[key].textContent = '…';
    const scoreModel =
      model === 'exact'
        ? exactScore
        : wrapModel((x: tf.Tensor, t: tf.Tensor) => net!.predict(x, t), { sde, prediction: 'eps' });
    let drawMs = 0;
    const start = performance.now();
    let samples: tf.Tensor | undefined;
    try {
      const result = await runSampler(id, {
        sde,
        model: scoreModel,
        steps: n,
        shape: [count, 2],
        seed: seedValue,
        signal: controller.signal,
        onStep: show
          ? async (x, t, index, total) => {
              const begin = performance.now();
              const values = await x.data();
              plot.draw({
                points: values,
                model,
                alpha: sde.alpha(t),
                sigma: sde.sigma(t),
                caption: `step ${index + 1}${id === 'ode-rk45' ? '' : ` of ${total}`}, t = ${t.toFixed(3)}`,
              });
              await nextFrame();
              drawMs += performance.now() - begin;
            }
          : undefined,
      });
      samples = result.samples;
      const values = await samples.data();
      const ms = performance.now() - start;
      const finite = finiteRows(values, 2);
      const expected = expectedNfe(id, n, result.adaptive);
      const ours = values.length > 2 * ENERGY_POINTS ? values.subarray(0, 2 * ENERGY_POINTS) : values;
      const energy = energyDistance(ours, reference, 2);
      // What two exact draws of these sizes give: the noise floor of the number above.
      const floor = energyDistance(
        sampleMixture(mixture, ours.length / 2, createLiveRng(seedValue + 7)),
        reference,
        2,
      );
      plot.draw({
        points: values,
        model,
        caption: `samples at t = 0 (${model === 'exact' ? 'exact score' : 'trained net'})`,
      });
      stats.nfe.textContent =
        `${result.nfe} (${SAMPLER_INFO[id].rule}` +
        (result.adaptive
          ? `, ${result.adaptive.accepted} accepted + ${result.adaptive.rejected} rejected`
          : '') +
        ` = ${expected})`;
      stats.time.textContent = show
        ? `${formatMs(ms)} (${formatMs(ms - drawMs)} without drawing), ${backendName}`
        : `${formatMs(ms)}, ${backendName}`;
      stats.points.textContent = `${finite} of ${count} finite`;
      stats.energy.textContent = `${energy.toFixed(4)} (two exact draws: ${floor.toFixed(4)})`;
      setData({
        state: 'done',
        nfe: result.nfe,
        'expected-nfe': expected,
        samples: finite,
        backend: backendName,
        ms: ms.toFixed(1),
        'draw-ms': drawMs.toFixed(1),
        accepted: result.adaptive?.accepted,
        rejected: result.adaptive?.rejected,
        energy: energy.toFixed(5),
      });
      status.textContent = `Done: ${SAMPLER_INFO[id].label}, N = ${n}, NFE ${result.nfe}, ${formatMs(ms)} on ${backendName}.`;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const stopped = controller.signal.aborted;
      setData({ state: stopped ? 'stopped' : 'error', error: message });
      status.textContent = stopped ? 'Stopped.' : `Error: ${message}`;
      for (const key of ['nfe', 'time', 'points', 'energy'] as const) stats[key].textContent = '—';
    } finally {
      samples?.dispose();
      controller = undefined;
      setBusy(false);
    }
  };
  run.addEventListener('click', () => void sample('exact'));
  runTrained.addEventListener('click', () => void sample('trained'));

  // ---- training --------------------------------------------------------------------------------------------
  const trainNet = async () => {
    if (busy) return;
    const total = readInt(trainSteps, 10, 20000, 2000);
    const batchSize = readInt(batch, 16, 2048, 256);
    const rate = Number(lr.value) > 0 ? Number(lr.value) : 5e-3;
    setBusy(true);
    runTrained.disabled = true;
    stopTraining = false;
    net?.dispose();
    net = undefined;
    const fresh = new ScoreNet({ seed: readInt(seed, 0, 1_000_000, 0) });
    const trainer = new ScoreTrainer({
      sde,
      mixture,
      net: fresh,
      batchSize,
      learningRate: rate,
      decaySteps: total,
      seed: readInt(seed, 0, 1_000_000, 0),
    });
    setData({
      'train-state': 'training',
      'train-steps': 0,
      'first-loss': undefined,
      'last-loss': undefined,
      'train-ms': undefined,
      'train-error': undefined,
    });
    status.textContent = 'Training…';
    const losses: number[] = [];
    const smoothed: number[] = [];
    const span = Math.max(1, Math.min(50, Math.floor(total / 10)));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const start = performance.now();
    let lastFrame = start;
    try {
      while (trainer.steps < total && !stopTraining) {
        const loss = trainer.step();
        losses.push(loss);
        const previous = smoothed.length > 0 ? smoothed[smoothed.length - 1]! : loss;
        smoothed.push(smoothed.length === 0 ? loss : 0.97 * previous + 0.03 * loss);
        if (performance.now() - lastFrame > 50 || trainer.steps === total) {
          drawLosses(losses, smoothed, total);
          trainInfo.textContent = `Step ${trainer.steps} of ${total}: loss ${loss.toFixed(4)}, smoothed ${smoothed[smoothed.length - 1]!.toFixed(4)}, ${formatMs(performance.now() - start)}.`;
          setData({ 'train-steps': trainer.steps });
          await nextFrame();
          lastFrame = performance.now();
        }
      }
      const ms = performance.now() - start;
      drawLosses(losses, smoothed, total);
      net = fresh;
      const done = trainer.steps;
      const first = mean(losses.slice(0, Math.min(span, done)));
      const last = mean(losses.slice(Math.max(0, done - span)));
      trainInfo.textContent =
        `${stopTraining ? 'Stopped after' : 'Trained for'} ${done} steps in ${formatMs(ms)} (${(ms / Math.max(done, 1)).toFixed(1)} ms per step, batch ${batchSize}) on ${backendName}: ` +
        `mean loss of the first ${span} steps ${first.toFixed(4)}, of the last ${span} ${last.toFixed(4)}. ` +
        'Sample from it with “Sample (trained net)”.';
      setData({
        'train-state': stopTraining ? 'stopped' : 'done',
        'train-steps': done,
        'first-loss': first.toFixed(5),
        'last-loss': last.toFixed(5),
        'train-ms': ms.toFixed(0),
      });
      status.textContent = `Training ${stopTraining ? 'stopped' : 'done'}: ${done} steps, loss ${first.toFixed(3)} → ${last.toFixed(3)}.`;
    } catch (error) {
      fresh.dispose();
      const message = error instanceof Error ? error.message : String(error);
      setData({ 'train-state': 'error', 'train-error': message });
      status.textContent = `Training error: ${message}`;
    } finally {
      trainer.dispose();
      setBusy(false);
    }
  };
  train.addEventListener('click', () => void trainNet());

  // Redraw in the new colors when the theme changes (typedoc sets data-theme on <html>), and on resizes.
  const redraw = () => {
    points2d.draw(lastFrame);
    lossPlot.draw(...lastLosses);
  };
  new MutationObserver(redraw).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ['data-theme'],
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', redraw);
  new ResizeObserver(redraw).observe(root);

  // ---- backend ---------------------------------------------------------------------------------------------
  const prefer = new URLSearchParams(location.search).get('backend') === 'cpu' ? 'cpu' : 'wasm';
  try {
    const backend = await startBackend(prefer);
    backendName = backend.name;
    backendLine.textContent = `Backend: ${backend.summary}${backend.fallbackReason ? ` — wasm is not used: ${backend.fallbackReason}` : ''}.`;
    setData({ backend: backend.name, 'backend-fallback': backend.fallbackReason, ready: 'true' });
    status.textContent = 'Ready.';
    setBusy(false);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    backendLine.textContent = `No TensorFlow.js backend could start: ${message}`;
    setData({ ready: 'error', error: message });
    status.textContent = `Error: ${message}`;
  }
}
