/**
 * Floating-point operations (2 per multiply-add, padded taps included) of one call of a 2-D
 * convolution kernel, from the shapes `tf.profile` reports: `2 · |y| · KH·KW·Ci` for `Conv2D`
 * (`x [B,H,W,Ci]`, `filter [KH,KW,Ci,Co]` → `y [B,OH,OW,Co]`), and the same products reordered for
 * its gradients: `2 · |dy| · KH·KW·Ci` for `Conv2DBackpropInput` (`dy`, `filter` → `dx`) and
 * `Conv2DBackpropFilter` (`x`, `dy` → `dW [KH,KW,Ci,Co]`).
 */
export function convFlops(name: string, inputShapes: number[][], outputShape: number[]): number {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const taps = (filter: number[] | undefined, what: string) => {
    if (filter?.length !== 4) throw new Error(`convFlops: ${name} needs a rank-4 ${what}, got [${filter}]`);
    return filter[0]! * filter[1]! * filter[2]!;
  };
  if (name === 'Conv2D') return 2 * size(outputShape) * taps(inputShapes[1], 'filter (input 1)');
  if (name === 'Conv2DBackpropInput')
    return 2 * size(inputShapes[0] ?? []) * taps(inputShapes[1], 'filter (input 1)');
  if (name === 'Conv2DBackpropFilter')
    return 2 * size(inputShapes[1] ?? []) * taps(outputShape, 'filter (output)');
  throw new Error(`convFlops: ${name} is not one of Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter`);
}
