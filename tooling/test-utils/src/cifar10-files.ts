/** The value written for record `r` (global index), channel `c`, row `y`, column `x` of a test batch. */
export function cifar10Pixel(r: number, c: number, y: number, x: number): number {
  return (r * 31 + c * 101 + y * 7 + x * 3 + ((x * y) >> 2)) & 255;
}

/**
 * A batch in the CIFAR-10 binary format written straight from its specification: per record, one label byte,
 * then the R plane (1024 bytes, rows top to bottom), then G, then B; record `k` holds
 * {@link cifar10Pixel}`(first + k, …)`.
 */
export function cifar10BatchBytes(first: number, labels: readonly number[]): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  let o = 0;
  for (const [k, label] of labels.entries()) {
    out[o++] = label;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) out[o++] = cifar10Pixel(first + k, c, y, x);
      }
    }
  }
  return out;
}

/** How many bytes of `count` HWC images `[count, 32, 32, 3]` differ from {@link cifar10Pixel} (0 when all match). */
export function cifar10HwcMismatches(data: Uint8Array, count: number): number {
  if (data.length !== count * 3072) return Math.abs(data.length - count * 3072) + count * 3072;
  let bad = 0;
  for (let r = 0; r < count; r++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          if (data[r * 3072 + (y * 32 + x) * 3 + c] !== cifar10Pixel(r, c, y, x)) bad++;
        }
      }
    }
  }
  return bad;
}
