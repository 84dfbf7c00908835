/**
 * Trajectories from the EF21 authors' own published experiment code (../shared/peers/ef21-authors:
 * not written here, never edited). dcomp on their conventions (spec v2 options: logreg-nonconvex,
 * contiguous split with floor shard sizes, g_i⁰ = ∇f_i(x⁰), their x⁰ file and step) must give the same
 * f(x^t) to 1e-10 relative and ‖∇f(x^t)‖² to 1e-10 relative (or, once it is below ~1e-13, within the
 * float64 rounding of the gradient itself) at every iteration, and the same bits per worker from
 * iteration 1 on with index_bits 0 (after dcomp's dense iteration-0 message, which they do not count).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareRun, executeRun } from '../src/bench/runner.js';
import { normalizeConfig } from '../src/bench/config.js';
import type { MetricRow } from '../src/bench/types.js';
import { DATA_DIR } from './data-dir.js';
import { tempDir } from './bench-cli-helpers.js';

const PEERS = resolve(DATA_DIR, '..', 'peers', 'ef21-authors');
const cache = tempDir('dcomp-peers-cache-');

interface PeerConfig {
  dataset: string; k: number; n: number; iters: number; x0: string; N: number; d: number; la: number; shard_sizes: number[]; step: number;
}

function readPeerCsv(path: string): Array<Record<string, number>> {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const cols = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [cols[i], Number(v)])));
}

const files = readdirSync(PEERS).filter((f) => f.endsWith('.json')).sort();

test('the peers folder holds trajectories to check against', () => {
  assert.ok(files.length >= 8, `found ${files.length} configurations in ${PEERS}`);
});

for (const file of files) {
  test(`dcomp reproduces the EF21 authors' trajectory ${file.replace('.json', '')} (loss, ‖∇f‖² to 1e-10; bits from iteration 1)`, async () => {
    const peer = JSON.parse(readFileSync(join(PEERS, file), 'utf8')) as PeerConfig;
    const theirs = readPeerCsv(join(PEERS, file.replace('.json', '.csv')));
    // their split: ⌊N/n⌋ rows each, the remainder to the last worker
    const floor = Math.floor(peer.N / peer.n);
    assert.deepEqual(peer.shard_sizes, [...Array(peer.n - 1).fill(floor), peer.N - floor * (peer.n - 1)]);
    const config = normalizeConfig({
      dataset: peer.dataset, problem: 'logreg-nonconvex', l2: peer.la, method: 'ef21', compressor: 'topk', k: peer.k,
      workers: peer.n, split: 'contiguous', shard_sizes: 'floor', ef21_init: 'full', x0: `file:${join(PEERS, peer.x0)}`,
      step: String(peer.step), iters: peer.iters, index_bits: 0,
    });
    const prepared = await prepareRun(config, { envDataDir: DATA_DIR, cacheDir: cache });
    assert.equal(prepared.problem.d, peer.d);
    assert.equal(prepared.labels.stepUsed, peer.step);
    const result = await executeRun(prepared);
    assert.equal(result.status, 'completed');
    assert.equal(result.rows.length, theirs.length);
    const dense = peer.d * 32;
    for (let t = 0; t < theirs.length; t++) {
      const ours: MetricRow = result.rows[t];
      const want = theirs[t];
      assert.equal(ours.iteration, want.iteration);
      const lossRel = Math.abs(ours.loss - want.loss) / Math.abs(want.loss);
      assert.ok(lossRel <= 1e-10, `${file} t=${t} loss: ${ours.loss} vs ${want.loss} (relative ${lossRel})`);
      // ‖∇f‖² to 1e-10 relative; once it falls below ~1e-13 the gradient's own float64 rounding
      // (each entry a sum of terms of size ~‖∇f(x⁰)‖, so an error up to ~16·ε·√d·‖∇f(x⁰)‖ in ‖∇f‖)
      // dominates, and either side's summation order moves ‖∇f‖² by up to 2‖∇f‖ times that.
      const gradRounding = 16 * Number.EPSILON * Math.sqrt(peer.d) * Math.sqrt(theirs[0].grad_norm_sq);
      const allowed = Math.max(1e-10 * want.grad_norm_sq, 2 * Math.sqrt(want.grad_norm_sq) * gradRounding);
      const gradDiff = Math.abs(ours.gradNormSq - want.grad_norm_sq);
      assert.ok(gradDiff <= allowed, `${file} t=${t} grad_norm_sq: ${ours.gradNormSq} vs ${want.grad_norm_sq} (difference ${gradDiff}, allowed ${allowed})`);
      if (t >= 1) assert.equal(ours.bitsUpPerWorker - dense, want.bits_per_worker_theirs, `${file} t=${t} bits per worker`);
    }
  });
}
