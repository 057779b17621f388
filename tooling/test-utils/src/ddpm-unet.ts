import * as tf from '@tensorflow/tfjs-core';

/** Architecture of {@link DdpmUnet}. */
export interface DdpmUnetConfig {
  /** Image channels (default 3). */
  inChannels?: number;
  /** Base channel count `ch` (default 32). */
  ch?: number;
  /** Channel multiplier per resolution level (default [1, 2, 2]). */
  chMult?: number[];
  /** Residual blocks per level on the way down (the way up has one more) (default 1). */
  numResBlocks?: number;
  /** Resolutions (image side lengths) that get a self-attention block after each residual block (default [16]). */
  attnResolutions?: number[];
  /** Side length of the input images (default 32). */
  resolution?: number;
  /** Groups of every group normalization (default 8). */
  groups?: number;
  /** Seed of the weight initialization (default 0). */
  seed?: number;
  /**
   * The group normalization `(x [B,H,W,C], gamma [C], beta [C], groups, eps) → [B,H,W,C]` (default
   * {@link groupNormViaMoments}); benchmarks pass @sbm/unet's `groupNorm` to time the product's op.
   */
  groupNorm?: GroupNormFn;
}

/** A group normalization: `x [B,H,W,C]`, `gamma`, `beta` `[C]` → `[B,H,W,C]`. */
export type GroupNormFn = (
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groups: number,
  eps: number,
) => tf.Tensor;

/**
 * Group normalization (Wu & He 2018) written with `tf.moments` over the grouped axes and
 * differentiated by tfjs: `y = (x − μ)/√(σ² + eps)·γ + β` per example and group.
 */
export const groupNormViaMoments: GroupNormFn = (x, gamma, beta, groups, eps) =>
  tf.tidy(() => {
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const xg = tf.reshape(x, [b, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
    const xn = tf.reshape(tf.mul(tf.sub(xg, mean), tf.rsqrt(tf.add(variance, eps))), [b, h, w, c]);
    return tf.add(tf.mul(xn, gamma), beta);
  });

type Params = Map<string, tf.Variable>;

/**
 * A small DDPM-style U-Net (Ho et al. 2020, appendix B) written with functional tfjs-core ops, for
 * tests and benchmarks of kernels and training loops (not a model for real use: @sbm/unet is).
 *
 * Layout: sinusoidal time embedding → dense(4ch) → swish → dense(4ch); conv 3×3 in; per level
 * `numResBlocks` residual blocks (GroupNorm → swish → conv 3×3, + dense(temb), GroupNorm → swish →
 * conv 3×3, 1×1 skip when channels change) with self-attention at `attnResolutions`, a stride-2
 * 3×3 conv between levels; middle res–attn–res; on the way up `numResBlocks + 1` blocks per level on
 * the concatenated skip, nearest-neighbour ×2 upsampling followed by a 3×3 conv; GroupNorm → swish →
 * conv 3×3 out. Input `x [B,H,W,C]`, `t [B]`; output `[B,H,W,C]`.
 */
export class DdpmUnet {
  readonly params: Params = new Map();
  readonly config: Required<DdpmUnetConfig>;
  private seed: number;

  constructor(config: DdpmUnetConfig = {}) {
    this.config = {
      inChannels: 3,
      ch: 32,
      chMult: [1, 2, 2],
      numResBlocks: 1,
      attnResolutions: [16],
      resolution: 32,
      groups: 8,
      seed: 0,
      groupNorm: groupNormViaMoments,
      ...config,
    };
    this.seed = this.config.seed * 1000 + 1;
    const { ch, chMult, numResBlocks, attnResolutions, resolution, inChannels } = this.config;
    this.dense('temb0', ch, 4 * ch);
    this.dense('temb1', 4 * ch, 4 * ch);
    this.conv('in', 3, inChannels, ch);
    const skips = [ch];
    let c = ch;
    let res = resolution;
    chMult.forEach((m, level) => {
      for (let i = 0; i < numResBlocks; i++) {
        this.resBlock(`down${level}.${i}`, c, ch * m);
        c = ch * m;
        if (attnResolutions.includes(res)) this.attnBlock(`down${level}.${i}.attn`, c);
        skips.push(c);
      }
      if (level !== chMult.length - 1) {
        this.conv(`down${level}.ds`, 3, c, c);
        skips.push(c);
        res /= 2;
      }
    });
    this.resBlock('mid0', c, c);
    this.attnBlock('mid.attn', c);
    this.resBlock('mid1', c, c);
    for (let level = chMult.length - 1; level >= 0; level--) {
      for (let i = 0; i <= numResBlocks; i++) {
        const s = skips.pop() as number;
        this.resBlock(`up${level}.${i}`, c + s, ch * chMult[level]!);
        c = ch * chMult[level]!;
        if (attnResolutions.includes(res)) this.attnBlock(`up${level}.${i}.attn`, c);
      }
      if (level !== 0) {
        this.conv(`up${level}.us`, 3, c, c);
        res *= 2;
      }
    }
    this.norm('out.norm', c);
    this.conv('out', 3, c, inChannels, 0.1);
  }

  /** Number of trainable scalars. */
  get paramCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** The trainable variables, in creation order. */
  get variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** Copies every parameter value from `other` (same config), e.g. to compare two backends. */
  async copyFrom(other: DdpmUnet): Promise<void> {
    for (const [name, v] of this.params) {
      const src = other.params.get(name);
      if (src === undefined) throw new Error(`DdpmUnet.copyFrom: missing parameter ${name}`);
      const values = await src.data();
      tf.tidy(() => v.assign(tf.tensor(values as Float32Array, src.shape)));
    }
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }

  /** ε-prediction of the network: `x [B,H,W,C]`, `t [B]` → `[B,H,W,C]`. */
  apply(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D {
    return tf.tidy(() => {
      const { ch, chMult, numResBlocks, attnResolutions, resolution } = this.config;
      let temb = this.timestepEmbedding(t, ch);
      temb = this.applyDense('temb0', temb);
      temb = this.applyDense('temb1', swish(temb));
      const hs: tf.Tensor4D[] = [this.applyConv('in', x)];
      let res = resolution;
      chMult.forEach((_, level) => {
        for (let i = 0; i < numResBlocks; i++) {
          let h = this.applyResBlock(`down${level}.${i}`, hs[hs.length - 1]!, temb);
          if (attnResolutions.includes(res)) h = this.applyAttn(`down${level}.${i}.attn`, h);
          hs.push(h);
        }
        if (level !== chMult.length - 1) {
          hs.push(this.applyConv(`down${level}.ds`, hs[hs.length - 1]!, 2));
          res /= 2;
        }
      });
      let h = hs[hs.length - 1]!;
      h = this.applyResBlock('mid0', h, temb);
      h = this.applyAttn('mid.attn', h);
      h = this.applyResBlock('mid1', h, temb);
      for (let level = chMult.length - 1; level >= 0; level--) {
        for (let i = 0; i <= numResBlocks; i++) {
          h = this.applyResBlock(`up${level}.${i}`, tf.concat([h, hs.pop()!], 3), temb);
          if (attnResolutions.includes(res)) h = this.applyAttn(`up${level}.${i}.attn`, h);
        }
        if (level !== 0) {
          const [, hh, ww] = h.shape;
          h = this.applyConv(`up${level}.us`, tf.image.resizeNearestNeighbor(h, [hh * 2, ww * 2]));
          res *= 2;
        }
      }
      h = swish(this.applyNorm('out.norm', h));
      return this.applyConv('out', h);
    });
  }

  /**
   * DDPM ε-matching loss (Ho et al. 2020, eq. 14) of a batch with given noise and `alphaBar` per
   * example: `mean((ε_θ(√ᾱ x0 + √(1−ᾱ) ε, t) − ε)²)`. `x0, noise [B,H,W,C]`, `t, alphaBar [B]`.
   */
  loss(x0: tf.Tensor4D, noise: tf.Tensor4D, t: tf.Tensor1D, alphaBar: tf.Tensor1D): tf.Scalar {
    return tf.tidy(() => {
      const a = tf.reshape(alphaBar, [-1, 1, 1, 1]);
      const xt = tf.add(tf.mul(tf.sqrt(a), x0), tf.mul(tf.sqrt(tf.sub(1, a)), noise)) as tf.Tensor4D;
      return tf.mean(tf.squaredDifference(this.apply(xt, t), noise));
    });
  }

  private next(): number {
    this.seed += 1;
    return this.seed;
  }

  private conv(name: string, k: number, cin: number, cout: number, gain = 1): void {
    const std = gain * Math.sqrt(2 / (k * k * cin));
    this.params.set(
      `${name}.w`,
      tf.variable(tf.randomNormal([k, k, cin, cout], 0, std, 'float32', this.next())),
    );
    this.params.set(`${name}.b`, tf.variable(tf.zeros([cout])));
  }

  private dense(name: string, cin: number, cout: number): void {
    const std = Math.sqrt(1 / cin);
    this.params.set(`${name}.w`, tf.variable(tf.randomNormal([cin, cout], 0, std, 'float32', this.next())));
    this.params.set(`${name}.b`, tf.variable(tf.zeros([cout])));
  }

  private norm(name: string, c: number): void {
    this.params.set(`${name}.gamma`, tf.variable(tf.ones([c])));
    this.params.set(`${name}.beta`, tf.variable(tf.zeros([c])));
  }

  private resBlock(name: string, cin: number, cout: number): void {
    this.norm(`${name}.norm1`, cin);
    this.conv(`${name}.conv1`, 3, cin, cout);
    this.dense(`${name}.temb`, 4 * this.config.ch, cout);
    this.norm(`${name}.norm2`, cout);
    this.conv(`${name}.conv2`, 3, cout, cout, 0.1);
    if (cin !== cout) this.conv(`${name}.skip`, 1, cin, cout);
  }

  private attnBlock(name: string, c: number): void {
    this.norm(`${name}.norm`, c);
    for (const p of ['q', 'k', 'v', 'proj']) this.dense(`${name}.${p}`, c, c);
  }

  private p(name: string): tf.Variable {
    return this.params.get(name) as tf.Variable;
  }

  private timestepEmbedding(t: tf.Tensor1D, dim: number): tf.Tensor2D {
    const half = dim / 2;
    const freqs = tf.exp(tf.mul(tf.range(0, half), -Math.log(10000) / (half - 1)));
    const args = tf.mul(tf.reshape(tf.mul(t, 1000), [-1, 1]), tf.reshape(freqs, [1, -1]));
    return tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
  }

  private applyDense(name: string, x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.p(`${name}.w`)), this.p(`${name}.b`));
  }

  private applyConv(name: string, x: tf.Tensor4D, stride = 1): tf.Tensor4D {
    const w = this.p(`${name}.w`) as tf.Tensor4D;
    return tf.add(tf.conv2d(x, w, stride, w.shape[0] === 1 ? 'valid' : 'same'), this.p(`${name}.b`));
  }

  private applyNorm(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const { groupNorm, groups } = this.config;
    return groupNorm(x, this.p(`${name}.gamma`), this.p(`${name}.beta`), groups, 1e-6) as tf.Tensor4D;
  }

  private applyResBlock(name: string, x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D {
    let h = this.applyConv(`${name}.conv1`, swish(this.applyNorm(`${name}.norm1`, x)));
    const cout = h.shape[3];
    h = tf.add(h, tf.reshape(this.applyDense(`${name}.temb`, swish(temb)), [-1, 1, 1, cout]));
    h = this.applyConv(`${name}.conv2`, swish(this.applyNorm(`${name}.norm2`, h)));
    const skip = this.params.has(`${name}.skip.w`) ? this.applyConv(`${name}.skip`, x) : x;
    return tf.add(skip, h);
  }

  private applyAttn(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const [b, hh, ww, c] = x.shape;
    const h = tf.reshape(this.applyNorm(`${name}.norm`, x), [b * hh * ww, c]) as tf.Tensor2D;
    const proj = (p: string) =>
      tf.reshape(this.applyDense(`${name}.${p}`, h), [b, hh * ww, c]) as tf.Tensor3D;
    const q = proj('q');
    const k = proj('k');
    const v = proj('v');
    const weights = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(c)));
    const out = tf.reshape(tf.matMul(weights, v), [b * hh * ww, c]) as tf.Tensor2D;
    return tf.add(x, tf.reshape(this.applyDense(`${name}.proj`, out), [b, hh, ww, c]));
  }
}

function swish<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}
