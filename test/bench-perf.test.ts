import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bestTimeRatio, measureSync, perfCsvCells, PERF_COLUMNS, quantile, summarize, throughputSamples, timeRatio } from '../src/bench/perf.js';
import { maxRelativeDifference, runPerf, testPoint } from '../src/bench/perf-cases.js';
import { DATA_DIR } from './data-dir.js';

const dataDir = DATA_DIR;
const tiny = { reps: 3, minTimeMs: 1, warmupMs: 1, targetSampleMs: 0.2, maxTimeMs: 2000 };

test('summarize gives the median, interpolated p10/p90 and quartiles, min, max and mean of a known list', () => {
  const s = summarize([5, 1, 4, 2, 3]);
  assert.equal(s.n, 5);
  assert.equal(s.median, 3);
  assert.ok(Math.abs(s.p10 - 1.4) < 1e-12, `p10 ${s.p10}`); // (5−1)·0.1 = 0.4 of the way from 1 to 2
  assert.ok(Math.abs(s.p90 - 4.6) < 1e-12, `p90 ${s.p90}`);
  assert.equal(s.q1, 2);
  assert.equal(s.q3, 4);
  assert.equal(s.min, 1);
  assert.equal(s.max, 5);
  assert.equal(s.mean, 3);
});

test('the median of an even count is the mean of the two middle values, and the input is not reordered', () => {
  const samples = [4, 1, 3, 2];
  assert.equal(summarize(samples).median, 2.5);
  assert.deepEqual(samples, [4, 1, 3, 2]);
  assert.equal(quantile([7], 0.9), 7);
  assert.ok(Number.isNaN(summarize([]).median));
});

test('throughput samples and the time ratio read so that a ratio below 1 means dcomp is faster', () => {
  assert.deepEqual(throughputSamples([2, 4], 8e6), [4e6, 2e6]); // 8 MB in 2 µs = 4·10^6 MB/s
  const fast = summarize([1, 1, 1]);
  const slow = summarize([4, 4, 4]);
  assert.equal(timeRatio('us', fast, slow), 0.25);
  assert.equal(timeRatio('MB/s', slow, fast), 0.25); // 4 MB/s against 1 MB/s: a quarter of the time
  assert.equal(timeRatio('us', fast, undefined), undefined);
  const noisy = summarize([2, 9, 9]);
  assert.equal(bestTimeRatio('us', noisy, slow), 0.5); // best samples: 2 µs against 4 µs
  assert.equal(bestTimeRatio('MB/s', summarize([1, 8]), summarize([2, 4])), 0.5); // best 8 MB/s against 4
});

test('max relative difference is the largest difference over the largest reference entry', () => {
  assert.equal(maxRelativeDifference([1, 2, 3], [1, 2, 4]), 0.25);
  assert.equal(maxRelativeDifference([0, 0], [0, 0]), 0);
  assert.ok(Number.isNaN(maxRelativeDifference([1], [1, 2])));
});

test('the per-call test point is x_j = 0.1·sin(j + 1), the formula the numpy baseline repeats', () => {
  const x = testPoint(3);
  assert.deepEqual([...x], [0.1 * Math.sin(1), 0.1 * Math.sin(2), 0.1 * Math.sin(3)]);
});

test('measureSync warms up, takes at least reps samples of inner calls each and summarises them', () => {
  let calls = 0;
  const m = measureSync(() => {
    calls++;
    let s = 0;
    for (let i = 0; i < 1000; i++) s += Math.sqrt(i);
    return s;
  }, tiny);
  assert.ok(m.samplesUs.length >= 3);
  assert.ok(m.inner >= 1);
  assert.ok(calls >= 2 + m.samplesUs.length * m.inner, 'warm-up calls come on top of the sampled ones');
  assert.equal(m.stats.n, m.samplesUs.length);
  assert.ok(m.stats.min > 0 && m.stats.min <= m.stats.median && m.stats.median <= m.stats.max);
});

test('perf produces one well-formed record per case, and a missing dataset is an error row while the rest go on', async () => {
  const messages: string[] = [];
  const { records, environment } = await runPerf({
    datasets: [join(dataDir, 'a1a'), join(dataDir, 'no-such-dataset.libsvm')],
    cases: ['gradient', 'gd'],
    measure: tiny,
    baselines: false,
    onProgress: (m) => messages.push(m),
  });
  assert.equal(records.length, 4, JSON.stringify(records.map((r) => [r.case, r.error])));
  const [missing, gradient, gd1, gd] = records;
  assert.equal(missing.case, 'dataset');
  assert.match(missing.error ?? '', /no-such-dataset/);
  assert.equal(gradient.case, 'gradient');
  assert.equal(gradient.unit, 'us');
  assert.equal(gradient.error, undefined);
  assert.ok(gradient.stats && gradient.stats.n >= 3 && gradient.stats.median > 0);
  assert.equal(gradient.baseline, undefined);
  assert.equal(gradient.ratio, undefined);
  assert.equal(gd1.case, 'gd');
  assert.equal(gd1.params, 'n=1');
  assert.ok(gd1.stats && gd1.stats.median > 0);
  assert.equal(gd.case, 'gd');
  assert.equal(gd.params, 'n=20');
  assert.ok(gd.stats && gd.stats.median > 0);
  for (const r of records) assert.equal(perfCsvCells(r).length, PERF_COLUMNS.length);
  assert.ok(environment.cores >= 1 && environment.node.startsWith('v'));
  assert.ok(messages.some((m) => m.includes('gradient')), 'progress is reported through the callback, not printed');
});

test('perf scale cases: gd, ef21+topk and gtopk on each synthetic grid point, with ns per non-zero and the peak RSS', async () => {
  const { records } = await runPerf({
    datasets: [], cases: ['scale'], scale: [{ rows: 400, cols: 300 }, { rows: 800, cols: 300 }], measure: tiny, baselines: false,
  });
  assert.equal(records.length, 6, JSON.stringify(records.map((r) => [r.params, r.error])));
  assert.deepEqual(records.map((r) => r.params.split(' ')[0]), ['gd', 'ef21+topk', 'gtopk+topk', 'gd', 'ef21+topk', 'gtopk+topk']);
  for (const r of records) {
    assert.equal(r.case, 'scale');
    assert.equal(r.dataset, 'synthetic');
    assert.equal(r.error, undefined);
    assert.ok(r.stats && r.stats.median > 0);
    assert.match(r.params, /N=(400|800) d=300/);
    assert.match(r.note ?? '', /ns\/nnz.*nnz \d+; peak RSS \d+ MB/);
    assert.doesNotMatch(r.note ?? '', /non-finite/);
  }
});

test('perf gradient row against C: every loop and flag set is timed and checked, the best by the median is the baseline', async () => {
  const { records, environment } = await runPerf({
    datasets: [join(dataDir, 'a1a')], cases: ['gradient'], measure: tiny, baselines: true,
  });
  const [row] = records;
  if (environment.cc === undefined) {
    // No C compiler here: the row has no baseline and the environment says why.
    assert.ok(environment.baselineNotes.some((n) => /C baseline/.test(n)), JSON.stringify(environment.baselineNotes));
    assert.equal(row.baseline, undefined);
    return;
  }
  const variants = row.baseline?.variants ?? [];
  assert.deepEqual(variants.map((v) => v.variant).sort(), [
    'csc -O3', 'csc -O3 -march=native', 'pattern -O3', 'pattern -O3 -march=native', 'ref -O2', 'ref -O3', 'ref -O3 -march=native',
  ].filter((v) => environment.cc!.includes('-march=native') || !v.includes('native')).sort());
  const best = Math.min(...variants.map((v) => v.stats.median));
  assert.equal(row.baseline?.stats.median, best);
  const diff = Number(/max rel diff ([0-9.e+-]+)/.exec(row.baseline?.check ?? '')?.[1]);
  assert.ok(diff < 1e-13, row.baseline?.check);
  assert.match(row.note ?? '', /baseline = best C variant/);
});
