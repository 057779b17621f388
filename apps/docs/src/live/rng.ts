/** A small seeded generator for the live page's data (mixture draws, weight initialization). */
export interface LiveRng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
}

/**
 * xoshiro128** (Blackman & Vigna) seeded through a splitmix32 mixer: reproducible from an integer seed, fast enough to
 * draw a training batch per step in plain JavaScript.
 */
export function createLiveRng(seed: number): LiveRng {
  let m = seed >>> 0;
  const mix = (): number => {
    m = (m + 0x9e3779b9) >>> 0;
    let z = m;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  const s = [mix(), mix(), mix(), mix()];
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
  let spare: number | undefined;
  return {
    uniform: () => (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53,
    normal: () => {
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return v;
      }
      let u = 0;
      while (u === 0) u = (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53;
      const v = (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53;
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
