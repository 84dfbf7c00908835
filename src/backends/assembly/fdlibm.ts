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

// Two lanes of fdlibmLog1p for x in [0, 1] (e = exp(−|p|), the mlp's loss terms): the same float64
// operations per lane as the scalar function, its two ordinary paths (x < √2 − 1: k = 0, f = x; above:
// k = 1, f = (1 + x)/2 − 1 with the correction c) both computed and selected per lane, and tiny x
// (< 2^-29) as there. Lanes with x outside [0, 0.999] or NaN take the scalar function (its special cases
// near x = 1 and beyond), so every lane is bitwise fdlibmLog1p.
const L2_C: usize = memory.data<f64>([
  LP1, LP1, LP2, LP2, LP3, LP3, LP4, LP4, LP5, LP5, LP6, LP6, LP7, LP7, // 0 … 96
  0.5, 0.5, 1.0, 1.0, 2.0, 2.0, LN2_HI, LN2_HI, LN2_LO, LN2_LO, // 112 … 176
  0.999, 0.999, // 192
], 16);

/** log1p of both lanes, bit for bit fdlibmLog1p per lane. */
export function fdlibmLog1p2(x: v128): v128 {
  const c = L2_C;
  const half = v128.load(c, 112);
  const one = v128.load(c, 128);
  const two = v128.load(c, 144);
  // outside the two paths: a set sign bit (−0 included), x > 0.999, NaN (x ≤ 0.999 is false for NaN)
  const ordinary = v128.and(i64x2.ge_s(x, i64x2.splat(0)), f64x2.le(x, v128.load(c, 192)));
  if (!i64x2.all_true(ordinary)) {
    return f64x2.replace_lane(f64x2.splat(fdlibmLog1p(f64x2.extract_lane(x, 0))), 1, fdlibmLog1p(f64x2.extract_lane(x, 1)));
  }
  const hx = i64x2.shr_u(x, 32);
  const tiny = i64x2.lt_s(hx, i64x2.splat(0x3e200000));
  const small = i64x2.lt_s(hx, i64x2.splat(0x3FDA827A));
  // large path: u = 1 + x (< 2: x ≤ 0.999), c = (x − (u − 1))/u, f = u/2 − 1 (the scalar's halving of u, exact)
  const u = f64x2.add(one, x);
  const corr = f64x2.div(f64x2.sub(x, f64x2.sub(u, one)), u);
  const f = v128.bitselect(x, f64x2.sub(f64x2.mul(u, half), one), small);
  const hfsq = f64x2.mul(f64x2.mul(half, f), f);
  const s = f64x2.div(f, f64x2.add(two, f));
  const z = f64x2.mul(s, s);
  let r = v128.load(c, 96);
  r = f64x2.add(v128.load(c, 80), f64x2.mul(z, r));
  r = f64x2.add(v128.load(c, 64), f64x2.mul(z, r));
  r = f64x2.add(v128.load(c, 48), f64x2.mul(z, r));
  r = f64x2.add(v128.load(c, 32), f64x2.mul(z, r));
  r = f64x2.add(v128.load(c, 16), f64x2.mul(z, r));
  r = f64x2.add(v128.load(c, 0), f64x2.mul(z, r));
  const R = f64x2.mul(z, r);
  const sHR = f64x2.mul(s, f64x2.add(hfsq, R));
  const smallResult = f64x2.sub(f, f64x2.sub(hfsq, sHR));
  // dk = 1: dk·LN2_HI and dk·LN2_LO are the constants themselves
  const largeResult = f64x2.sub(v128.load(c, 160), f64x2.sub(f64x2.sub(hfsq, f64x2.add(sHR, f64x2.add(v128.load(c, 176), corr))), f));
  // tiny: x itself below 2^-54, else x − x·x·0.5
  const tinyResult = v128.bitselect(x, f64x2.sub(x, f64x2.mul(f64x2.mul(x, x), half)), i64x2.lt_s(hx, i64x2.splat(0x3c900000)));
  return v128.bitselect(tinyResult, v128.bitselect(smallResult, largeResult, small), tiny);
}
