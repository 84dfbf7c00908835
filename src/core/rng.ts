/**
 * Seeded randomness. Every random choice in dcomp (splits, Rand-k, adaptive, minibatches, x0)
 * draws from an `Rng` made by `createRng(seed, ...stream)`. Each consumer names its own stream
 * (e.g. `createRng(seed, 'randk', worker)`), so results do not depend on the order in which
 * unrelated consumers draw. Backed by pure-rand's xoroshiro128+ (well tested, fast, no native code).
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';

export interface Rng {
  /** Uniform in [0, 1), 53 random bits. */
  float(): number;
  /** Uniform integer in [0, n). Requires 1 ≤ n ≤ 2^32. */
  int(n: number): number;
  /** Standard normal N(0, 1) (Box–Muller). */
  normal(): number;
}

/** FNV-1a over the UTF-8 of the stream path, mixed with the seed: a stable 32-bit generator seed. */
export function streamSeed(seed: number, stream: readonly (string | number)[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h, 0x01000193) >>> 0;
  const hi = Math.floor(seed / 2 ** 32);
  h = Math.imul(h ^ (hi >>> 0), 0x01000193) >>> 0;
  const text = stream.map(String).join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so nearby streams decorrelate
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h | 0;
}

export function createRng(seed: number, ...stream: (string | number)[]): Rng {
  const gen = xoroshiro128plus(streamSeed(seed, stream));
  let spare = NaN;
  return {
    float: () => uniformFloat64(gen),
    int: (n: number) => uniformInt(gen, 0, n - 1),
    normal: () => {
      if (!Number.isNaN(spare)) {
        const s = spare;
        spare = NaN;
        return s;
      }
      let u = 0;
      while (u === 0) u = uniformFloat64(gen);
      const v = uniformFloat64(gen);
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
