import { convFlops } from './conv-flops.js';

/** A kernel call as `tf.profile` reports it (shapes only). */
export interface KernelShapes {
  name: string;
  inputShapes: number[][];
  outputShapes: number[][];
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * FLOPs of one `BatchMatMul` call (2 per multiply-add) from its shapes alone, whatever the transposes:
 * with `a` and `b` the operands and `out [..., M, N]` the result over `P = |out|/(M·N)` batch matrices,
 * `|a|·|b| = P² · M·K · K·N` and `|out| = P·M·N`, so `K = √(|a|·|b| / (|out|·P))` and FLOPs = `2·|out|·K`.
 * (Operands broadcast over the batch are counted as if repeated.)
 */
export function matMulFlops(inputShapes: number[][], outputShape: number[]): number {
  const [a, b] = inputShapes;
  if (!a || !b || outputShape.length < 2) {
    throw new Error(
      `matMulFlops: expected two operands and a result of rank >= 2, got ${JSON.stringify(inputShapes)} → ${JSON.stringify(outputShape)}`,
    );
  }
  const out = size(outputShape);
  const M = outputShape[outputShape.length - 2]!;
  const N = outputShape[outputShape.length - 1]!;
  const P = out / (M * N);
  const pa = size(a) / (a.length > 2 ? size(a.slice(0, -2)) : 1);
  const pb = size(b) / (b.length > 2 ? size(b.slice(0, -2)) : 1);
  // per matrix: |a_i| = M·K, |b_i| = K·N  →  K = √(|a_i|·|b_i| / (M·N))
  const K = Math.round(Math.sqrt((pa * pb) / (M * N)));
  return 2 * P * M * N * K;
}

/**
 * FLOPs of a profiled training step: convolutions (`Conv2D` and its two gradients, `convFlops`) and matrix
 * products (`BatchMatMul`, `matMulFlops`); elementwise kernels (normalization, activations, Adam) are not
 * counted — the usual convention, a few percent of the total for these networks.
 */
export function stepFlops(kernels: readonly KernelShapes[]): { conv: number; matmul: number; total: number } {
  let conv = 0;
  let matmul = 0;
  for (const k of kernels) {
    if (k.name === 'Conv2D' || k.name === 'Conv2DBackpropInput' || k.name === 'Conv2DBackpropFilter') {
      conv += convFlops(k.name, k.inputShapes, k.outputShapes[0]!);
    } else if (k.name === 'BatchMatMul') {
      matmul += matMulFlops(k.inputShapes, k.outputShapes[0]!);
    }
  }
  return { conv, matmul, total: conv + matmul };
}
