/**
 * exp and log1p exactly as V8's Math.exp and Math.log1p compute them (V8 uses fdlibm's algorithms:
 * FreeBSD msun e_exp.c and s_log1p.c), so WebAssembly kernels can call them instead of importing the
 * host's Math — a call out of WebAssembly per row cost ~5% of an mlp gradient — and still give the
 * JS reference loop's bits. AssemblyScript's own Math.exp and Math.log1p (musl's) differ from V8's
 * in the last bit for some inputs. test/backends-fdlibm.test.ts compares both with V8 bit for bit on
 * millions of inputs (random bit patterns, the ranges the kernels use, the branch thresholds).
 *
 * The algorithms and constants are fdlibm's:
 * ====================================================
 * Copyright (C) 1993, 2004 by Sun Microsystems, Inc. All rights reserved.
 * Developed at SunSoft, a Sun Microsystems, Inc. business.
 * Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice
 * is preserved.
 * ====================================================
 */
const HALF0: f64 = 0.5;
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e+00;
const P1: f64 = 1.66666666666666019037e-01;
const P2: f64 = -2.77777777770155933842e-03;
const P3: f64 = 6.61375632143793436117e-05;
const P4: f64 = -1.65339022054652515390e-06;
const P5: f64 = 4.13813679705723846039e-08;
const O_THRESHOLD: f64 = 7.09782712893383973096e+02;
const U_THRESHOLD: f64 = -7.45133219101941108420e+02;
const TWOM1000: f64 = 9.33263618503218878990e-302;
const TWO1023: f64 = 8.988465674311579539e307;

/** e^x, bit for bit V8's Math.exp. */
export function fdlibmExp(x: f64): f64 {
  let hx = <u32>(reinterpret<u64>(x) >> 32);
  const xsb = hx >> 31;
  hx &= 0x7fffffff;
  let hi: f64 = 0, lo: f64 = 0;
  let k: i32 = 0;
  if (hx >= 0x40862E42) {
    if (hx >= 0x7ff00000) {
      const low = <u32>reinterpret<u64>(x);
      if (((hx & 0xfffff) | low) != 0) return x + x;
      return xsb == 0 ? x : 0.0;
    }
    if (x > O_THRESHOLD) return Infinity;
    if (x < U_THRESHOLD) return 0.0;
  }
  if (hx > 0x3fd62e42) {
    if (hx < 0x3FF0A2B2) {
      if (x == 1.0) return 2.718281828459045; // V8 (and FreeBSD) return e itself for x = 1
      if (xsb == 0) { hi = x - LN2_HI; lo = LN2_LO; k = 1; }
      else { hi = x + LN2_HI; lo = -LN2_LO; k = -1; }
    } else {
      k = <i32>(INV_LN2 * x + (xsb == 0 ? HALF0 : -HALF0));
      const t = <f64>k;
      hi = x - t * LN2_HI;
      lo = t * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    return 1.0 + x;
  } else k = 0;
  const t = x * x;
  let twopk: f64;
  if (k >= -1021) twopk = reinterpret<f64>(<u64>(0x3ff00000 + (k << 20)) << 32);
  else twopk = reinterpret<f64>(<u64>(0x3ff00000 + ((k + 1000) << 20)) << 32);
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * TWO1023;
    return y * twopk;
  }
  return y * twopk * TWOM1000;
}

const LP1: f64 = 6.666666666666735130e-01;
const LP2: f64 = 3.999999999940941908e-01;
const LP3: f64 = 2.857142874366239149e-01;
const LP4: f64 = 2.222219843214978396e-01;
const LP5: f64 = 1.818357216161805012e-01;
const LP6: f64 = 1.531383769920937332e-01;
const LP7: f64 = 1.479819860511658591e-01;
const TWO54: f64 = 1.80143985094819840000e+16;

@inline
function withHigh(x: f64, high: u32): f64 {
  return reinterpret<f64>((reinterpret<u64>(x) & 0xffffffff) | (<u64>high << 32));
}

/** log(1 + x), bit for bit V8's Math.log1p. */
export function fdlibmLog1p(x: f64): f64 {
  const hx = <i32>(reinterpret<u64>(x) >> 32);
  const ax = hx & 0x7fffffff;
  let k: i32 = 1;
  let f: f64 = 0, c: f64 = 0, u: f64 = 0;
  let hu: i32 = 0;
  if (hx < 0x3FDA827A) {
    if (ax >= 0x3ff00000) {
      if (x == -1.0) return -Infinity;
      return NaN;
    }
    if (ax < 0x3e200000) {
      if (TWO54 + x > 0 && ax < 0x3c900000) return x;
      return x - x * x * 0.5;
    }
    if (hx > 0 || hx <= <i32>0xbfd2bec4) {
      k = 0;
      f = x;
      hu = 1;
    }
  }
  if (hx >= 0x7ff00000) return x + x;
  if (k != 0) {
    if (hx < 0x43400000) {
      u = 1.0 + x;
      hu = <i32>(reinterpret<u64>(u) >> 32);
      k = (hu >> 20) - 1023;
      c = k > 0 ? 1.0 - (u - x) : x - (u - 1.0);
      c /= u;
    } else {
      u = x;
      hu = <i32>(reinterpret<u64>(u) >> 32);
      k = (hu >> 20) - 1023;
      c = 0;
    }
    hu &= 0x000fffff;
    if (hu < 0x6a09e) {
      u = withHigh(u, <u32>(hu | 0x3ff00000));
    } else {
      k += 1;
      u = withHigh(u, <u32>(hu | 0x3fe00000));
      hu = (0x00100000 - hu) >> 2;
    }
    f = u - 1.0;
  }
  const hfsq = 0.5 * f * f;
  const dk = <f64>k;
  if (hu == 0) {
    if (f == 0) {
      if (k == 0) return 0;
      c += dk * LN2_LO;
      return dk * LN2_HI + c;
    }
    const R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k == 0) return f - R;
    return dk * LN2_HI - ((R - (dk * LN2_LO + c)) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  const R = z * (LP1 + z * (LP2 + z * (LP3 + z * (LP4 + z * (LP5 + z * (LP6 + z * LP7))))));
  if (k == 0) return f - (hfsq - s * (hfsq + R));
  return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + (dk * LN2_LO + c))) - f);
}
