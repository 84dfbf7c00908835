/**
 * `dcomp perf --backend gpu`'s mlp rows (src/bench/gpu-perf.ts), through the child-process path the
 * CLI takes, on mushrooms in the webasm and cpu modes with small networks and a short measurement:
 * the structure of the rows, and that every figure was measured (samples taken, a float64 cpu
 * figure beside each end-to-end row, the kernel that ran named). No timing is asserted.
 * Without the optional gpu.js each mode gives one error row saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { GPU_PERF_MLP_HIDDEN, runGpuPerf } from '../src/bench/gpu-perf.js';
import { CLASS_OF } from './gpujs-fixtures.js';
import { datasetPath } from './data-dir.js';

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('gpu.js');
    return true;
  } catch {
    return false;
  }
})();

const MEASURE = { reps: 3, minTimeMs: 1, warmupMs: 1, targetSampleMs: 1, maxTimeMs: 5_000 };

test('the default mlp rows are the networks hidden 32 and 64,32', () => {
  assert.deepEqual(GPU_PERF_MLP_HIDDEN, [[32], [64, 32]]);
});

test('perf --backend gpu: mlp rows per mode and network, end to end beside float64 cpu, and every kernel timed in the worker', async () => {
  const modes = ['webasm', 'cpu'] as const;
  const records = await runGpuPerf({
    datasets: [{ name: 'mushrooms', path: datasetPath('mushrooms') }],
    modes,
    layouts: ['csr'],
    mlpHidden: [[8], [6, 4]],
    measure: MEASURE,
    timeoutMs: 300_000,
  });
  if (!installed) {
    for (const mode of modes) assert.ok(records.some((r) => r.params === `mode=${mode}` && /gpu\.js is not installed/.test(r.error ?? '')), JSON.stringify(records));
    return;
  }
  assert.deepEqual(records.filter((r) => r.error), [], 'no mode failed');
  assert.ok(records.some((r) => r.case === 'gpu-iteration'), 'the logreg rows are still there');
  for (const mode of modes) {
    for (const [net, layers] of [['112→8→1', 1], ['112→6→4→1', 2]] as const) {
      const tag = `mode=${mode} n=20 mlp=${net}`;
      const mine = records.filter((r) => r.params.startsWith(tag));
      for (const kind of ['gpu-mlp-iteration', 'gpu-mlp-loss', 'gpu-mlp-gd']) {
        const rows = mine.filter((r) => r.case === kind);
        assert.equal(rows.length, 1, `${tag} ${kind}`);
        const [r] = rows;
        assert.equal(r.dataset, 'mushrooms');
        assert.equal(r.unit, 'us');
        assert.ok(r.stats && r.stats.n >= MEASURE.reps && r.stats.median > 0, `${tag} ${kind}: measured`);
        assert.equal(r.baseline?.kind, 'cpu');
        assert.ok(r.baseline?.stats && r.baseline.stats.median > 0, `${tag} ${kind}: a float64 cpu figure`);
        assert.ok(Number.isFinite(r.ratio) && (r.ratio as number) > 0);
        assert.match(r.note ?? '', new RegExp(`^gpujs:${CLASS_OF[mode]} on `), 'the device that ran is named');
      }
      assert.match(mine.find((r) => r.case === 'gpu-mlp-iteration')?.note ?? '', /gradients at x⁰ within \d\.\de-\d+ of float64/);
      const kernels = mine.filter((r) => r.case === 'gpu-mlp-kernel');
      assert.equal(kernels.length, 3 * layers + 2, kernels.map((k) => k.params).join('; '));
      for (const k of kernels) {
        assert.ok(k.stats && k.stats.n >= 10 && k.stats.median > 0, `${k.params}: measured`);
        assert.equal(k.baseline, undefined);
      }
      const names = kernels.map((k) => k.params.slice(tag.length + 1));
      assert.match(names[0], /^mlp forward, layer 1 \(all shards\), with a readback of its output$/);
      assert.match(names[layers], /^mlp row terms/);
      assert.match(names[layers + 1], new RegExp(`^mlp backward δ, layer ${layers} `));
      assert.match(names[names.length - 1], /^mlp gradients, output layer \(all shards\)$/);
    }
  }
});
