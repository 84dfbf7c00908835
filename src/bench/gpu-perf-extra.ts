/**
 * Rows of `dcomp perf --backend gpu` (gpu-perf.ts) beyond logreg's kernels, run in the same child
 * process per mode:
 *  - gpu-topk-scaling: the Top-k threshold (radix search, 8 counting dispatches) and the compressor's
 *    pass on a synthetic N(0, 1) vector of 10⁴, 10⁵ and 10⁶ entries, k = d/100, beside the float64
 *    selection (TopKSelector): the datasets' d ≤ 300 say nothing about how it scales.
 *  - gpu-mlp-imp-a: one worker's imp-a scores on the one-hidden-layer mlp (hidden 32), the three
 *    one-shard dispatches of mlp-impa-kernels.ts end to end from the main thread, beside the float64
 *    MlpShard.coordinateDecrease (WebAssembly kernel).
 */
import type { GpuBackend } from '../backends/gpujs/index.js';
import { TopKSelector } from '../compressors/select.js';
import { GpuTopKCompressor } from '../compressors/topk-gpu.js';
import { createRng } from '../core/rng.js';
import type { LabeledData } from '../data/types.js';
import { mlpSpec } from '../problems/mlp.js';
import { bestTimeRatio, measureSync, timeRatio, type MeasureOptions, type PerfRecord, type Stats } from './perf.js';

function record(caseName: string, dataset: string, params: string, stats: Stats | undefined, cpu: Stats | undefined, note: string): PerfRecord {
  return {
    case: caseName, dataset, params, unit: 'us', stats,
    baseline: cpu ? { kind: 'cpu', stats: cpu } : undefined,
    ratio: timeRatio('us', stats, cpu),
    ratioBest: bestTimeRatio('us', stats, cpu),
    note,
  };
}

export const TOPK_SCALING_SIZES = [10_000, 100_000, 1_000_000];

/** The Top-k threshold and compressor at growing d (synthetic, seed 0). */
export function topkScalingRecords(backend: GpuBackend, measure: MeasureOptions, device: string, sizes = TOPK_SCALING_SIZES): PerfRecord[] {
  const records: PerfRecord[] = [];
  const rng = createRng(0, 'gpu-perf-topk');
  for (const d of sizes) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    const k = Math.max(1, Math.round(d / 100));
    const kernels = backend.topKKernels(d);
    const topk = new GpuTopKCompressor(d, k, 32, kernels);
    const selector = new TopKSelector(d);
    const indices = new Int32Array(k);
    const cpu = measureSync(() => selector.select(v, d, k, indices, true), measure).stats;
    const threshold = measureSync(() => kernels.threshold(v, d, k), measure).stats;
    const compress = measureSync(() => topk.compress(v), measure).stats;
    const params = `d=${d} k=${k}`;
    const how = 'radix search over the float32 key bits: 8 dispatches of 16 candidates, O(16·d) compares each';
    records.push(record('gpu-topk-scaling', 'synthetic', `${params} threshold`, threshold, cpu, `${device}; ${how}`));
    records.push(record('gpu-topk-scaling', 'synthetic', `${params} compress`, compress, cpu, `${device}; the threshold plus one O(d) pass on the host`));
  }
  return records;
}

/**
 * One worker's mlp imp-a row sums (hidden 32, the shards given) on the device vs the float64 scores
 * (the host's O(d) finish, 1/N_i and the regulariser, is left out of the gpu figure).
 */
export function mlpImpARecords(
  backend: GpuBackend, mode: string, dataset: string, data: LabeledData, shards: readonly Int32Array[], measure: MeasureOptions, device: string,
): PerfRecord[] {
  const hidden = 32;
  const reference = mlpSpec.create(data, { shards, values: { hidden: [hidden], l2: 0 } });
  const d = reference.d;
  const x = new Float64Array(d);
  reference.initialize(createRng(0, 'init'), x);
  const sizes = reference.layout.sizes;
  const impA = backend.mlpImpAKernels(
    reference.workers.map((w) => ({ A: w.A, b: w.b })),
    { inputs: sizes[0], hidden, params: d },
  );
  const v = new Float64Array(d);
  reference.workers[0].gradient(x, v);
  const out = new Float64Array(d);
  const eta = 0.5;
  const cpu = measureSync(() => reference.workers[0].coordinateDecrease(x, v, eta, out), measure).stats;
  const gpu = measureSync(() => impA.coordinateDecreaseSums(0, x, v, eta, out), measure).stats;
  return [record('gpu-mlp-imp-a', dataset, `mode=${mode} hidden=${hidden} worker 0 of ${shards.length}`, gpu, cpu,
    `${device}; pre-activations, row terms, one thread per parameter over its rows (one shard); built in ${impA.built.buildMs.toFixed(0)} ms`)];
}
