import type { Compressor, CompressorSpec } from './types.js';
import { denseBits, denseMessage } from './wire.js';

/** C(x) = x, sent dense: d·F bits (spec §3). */
export const identitySpec: CompressorSpec = {
  name: 'identity',
  description: 'no compression: C(x) = x, sent as d dense floats',
  options: [],
  bitsFormula: 'd·F',
  needsObjective: false,
  randomized: false,
  contractionAlpha: () => 1,
  unbiasedZeta: () => 1,
  knownClasses: () => ({ U: { zeta: 1 }, B1: { alpha: 1, beta: 1 }, B2: { gamma: 1, beta: 1 }, B3: { delta: 1 } }),
  create(options): Compressor {
    const { d } = options;
    const msg = denseMessage(d, denseBits(d, options.floatBits));
    return {
      name: 'identity',
      d,
      compress(v) {
        // A copy, not an alias: the caller may overwrite v before the message is consumed.
        const values = msg.values;
        for (let i = 0; i < d; i++) values[i] = v[i];
        return msg;
      },
    };
  },
};
