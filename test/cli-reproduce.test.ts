/** End to end: dcomp claims, report, reproduce and the baselines gate on a tiny experiment. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { loadExperiment } from '../src/bench/experiment.js';
import { baselineSubset } from '../src/bench/baseline.js';
import { expandExperiment } from '../src/bench/matrix.js';
import { SPEC_VERSION } from '../src/core/version.js';
import { readMeasured } from '../src/report/markdown.js';
import { parseResultsCsv } from '../src/report/read-csv.js';
import { dcomp, ROOT, tempDir, writeExperiment } from './bench-cli-helpers.js';

// CGD on mushrooms, one node, 20 iterations: Rand-k beats Top-k at k = 1 here (the claim "topk < randk"
// does not hold), and both converge.
const TINY = `name: tiny
spec_version: ${SPEC_VERSION}
datasets: [mushrooms]
problem: logreg
workers: 1
method: cgd
iters: 20
log_every: 5
select: best
matrix:
  compressor: [topk, randk]
  k: [1, 8]
  step: ["0.25*[1,4]"]
claims:
  - id: topk-beats-randk
    statement: Top-k beats Rand-k at the same k
    metric: grad_norm_sq
    a: {compressor: topk}
    b: {compressor: randk}
    per: [k]
    relation: "<"
  - id: converge
    metric: grad_norm_sq
    a: {compressor: [topk, randk], at: end}
    b: {compressor: [topk, randk], at: {iteration: 0}}
    per: [compressor, k]
    relation: "< x0.9"
plot: {x: bits_up_per_worker, y: grad_norm_sq, log_x: true}
baseline:
  iters: 10
  only: {k: [1]}
`;

const cache = tempDir('dcomp-repro-cache-');

test('bench prints the verdict table on stderr; dcomp claims re-evaluates it and changes the exit code only with --strict', () => {
  const dir = tempDir('dcomp-claims-');
  const file = writeExperiment(dir, 'tiny', TINY);
  const csv = join(dir, 'tiny.csv');
  const bench = dcomp(['bench', file, '--out', csv, '--jobs', '2', '--no-plot'], cache);
  assert.equal(bench.status, 0, bench.stderr);
  assert.match(bench.stderr, /claims of tiny \(re-evaluate with: dcomp claims/);
  assert.match(bench.stderr, /topk-beats-randk\s+k=1\s+\S+ \(topk\)\s+<\s+\S+ \(randk\)/);
  assert.equal(bench.stdout, '', 'nothing but CSV on stdout, and the CSV went to --out');

  const claims = dcomp(['claims', csv, '--experiment', file], cache);
  assert.equal(claims.status, 0, claims.stderr);
  const table = parseResultsCsv(readFileSync(csv, 'utf8'), csv);
  const final = (compressor: string, k: string) => Number(table.rows.filter((r) => r.compressor === compressor && r.k === k && r.iteration === '20')[0].grad_norm_sq);
  // the verdict is the comparison of the CSV's own final values, computed here independently
  const holdsAt1 = final('topk', '1') < final('randk', '1');
  const holdsAt8 = final('topk', '8') < final('randk', '8');
  assert.match(claims.stdout, new RegExp(`topk-beats-randk\\s+k=1 .*${holdsAt1 ? 'holds' : 'does not hold'}`));
  assert.match(claims.stdout, new RegExp(`\\s+k=8 .*${holdsAt8 ? 'holds' : 'does not hold'}`));
  assert.match(claims.stdout, /converge\s+topk, k=1 .* holds/);
  assert.ok(!(holdsAt1 && holdsAt8), 'the fixture is meant to have a claim that does not hold');
  assert.match(claims.stdout, /"Top-k beats Rand-k at the same k" (holds for|holds in none)/);

  const strict = dcomp(['claims', csv, '--experiment', file, '--strict'], cache);
  assert.equal(strict.status, 1, 'a claim that does not hold fails --strict');
  assert.match(strict.stderr, /claims \(--strict\): topk-beats-randk does not hold/);
  const markdown = dcomp(['claims', csv, '--experiment', file, '--format', 'markdown'], cache);
  assert.match(markdown.stdout, /^\| claim \| setting \| a \| relation \| b \| read at \| verdict \|$/m);

  const noClaims = writeExperiment(dir, 'none', TINY.split('claims:')[0]);
  const r = dcomp(['claims', csv, '--experiment', noClaims], cache);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /declares no claims/);
  const bad = dcomp(['claims', join(dir, 'missing.csv'), '--experiment', file], cache);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /missing\.csv: cannot read/);
});

test('dcomp reproduce runs bench, claims and report: a page with the verdicts, the figure as text and a valid SVG', () => {
  const dir = tempDir('dcomp-reproduce-');
  const file = writeExperiment(dir, 'tiny', TINY);
  const page = join(dir, 'pages', 'tiny.md');
  mkdirSync(join(dir, 'pages'));
  const r = dcomp(['reproduce', file, '--out', join(dir, 'tiny.csv'), '--page', page, '--jobs', '2'], cache);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /reproduce tiny: 1\/3 bench/);
  assert.match(r.stderr, /reproduce tiny: 3\/3 report → /);
  assert.ok(!r.stderr.includes('\u001b'), 'no bars or colour when stderr is not a TTY');
  const md = readFileSync(page, 'utf8');
  assert.match(md, /^# tiny$/m);
  assert.match(md, /^## Claims$/m);
  assert.match(md, /^\| `topk-beats-randk` \| k=1 \|/m);
  assert.match(md, /^### Where the claims that do not hold do hold$/m);
  assert.match(md, /!\[grad_norm_sq vs bits_up_per_worker \(log-log\)\]\(tiny-1\.svg\)/);
  assert.match(md, /```text\n[\s\S]*bits_up_per_worker \(log scale\)[\s\S]*```/);
  assert.match(md, /```yaml\nname: tiny\n/);
  assert.match(md, /^## Final values of every run$/m);
  const svg = readFileSync(join(dir, 'pages', 'tiny-1.svg'), 'utf8');
  assert.equal(XMLValidator.validate(svg), true);
  const measured = readMeasured(md);
  assert.ok(measured && measured.wallMs > 0 && measured.jobs === 2 && measured.runs === 8, JSON.stringify(measured));

  const strict = dcomp(['reproduce', file, '--out', join(dir, 'tiny2.csv'), '--page', join(dir, 'p2.md'), '--strict'], cache);
  assert.equal(strict.status, 1);
  assert.ok(existsSync(join(dir, 'p2.md')), 'the page is written before --strict fails');

  const overwrite = dcomp(['report', join(dir, 'tiny.csv'), '--experiment', file, '--out', join(dir, 'tiny.csv')], cache);
  assert.equal(overwrite.status, 2);
  assert.match(overwrite.stderr, /is an input of the report/);
  const unknown = dcomp(['reproduce', 'no-such-reproduction'], cache);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no reproduction "no-such-reproduction"; known: .*kasiuk-logreg/);
});

test('the baselines gate passes on its own baseline and fails on a perturbed or truncated one', () => {
  const dir = tempDir('dcomp-gate-');
  const file = writeExperiment(dir, 'tiny', TINY);
  const store = join(dir, 'baselines');
  mkdirSync(store);
  const missing = dcomp(['baselines', file, '--dir', store], cache);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /tiny: no stored baseline .*create it with: dcomp baselines tiny --update/);

  const update = dcomp(['baselines', file, '--dir', store, '--update'], cache);
  assert.equal(update.status, 0, update.stderr);
  const stored = join(store, 'tiny.csv');
  const text = readFileSync(stored, 'utf8');
  const table = parseResultsCsv(text, stored);
  assert.deepEqual([...new Set(table.rows.map((r) => `${r.compressor} k=${r.k}`))], ['topk k=1', 'randk k=1'], 'the subset: k = 1 only');
  assert.deepEqual([...new Set(table.rows.map((r) => r.iteration))], ['0', '5', '10']);

  const pass = dcomp(['baselines', file, '--dir', store], cache);
  assert.equal(pass.status, 0, pass.stderr);
  assert.match(pass.stdout, /^PASS$/m);

  // one grad_norm_sq moved by 1e-6 relative: beyond the 1e-9 tolerance
  const lines = text.split('\n');
  const header = lines[0].split(',');
  const col = header.indexOf('grad_norm_sq');
  const cells = lines[3].split(',');
  cells[col] = String(Number(cells[col]) * (1 + 1e-6));
  writeFileSync(stored, [...lines.slice(0, 3), cells.join(','), ...lines.slice(4)].join('\n'));
  const fail = dcomp(['baselines', file, '--dir', store], cache);
  assert.equal(fail.status, 1);
  assert.match(fail.stderr, /baselines: 1 gate\(s\) failed:\n  tiny: grad_norm_sq differs by 1\.00e-6/);
  assert.match(fail.stderr, /dcomp baselines NAME --update/);

  writeFileSync(stored, lines.filter((_, i) => i !== 2).join('\n'));
  const truncated = dcomp(['baselines', file, '--dir', store], cache);
  assert.equal(truncated.status, 1);
  assert.match(truncated.stderr, /row\(s\) (missing|only)|extra row/);
});

test('every shipped reproduction parses, declares claims and a baseline subset, and has a stored baseline of that subset', () => {
  const dir = join(ROOT, 'experiments', 'repro');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 4, files.join(', '));
  for (const f of files) {
    const e = loadExperiment(join(dir, f), `experiments/repro/${f}`);
    assert.equal(e.name, f.replace(/\.yaml$/, ''), 'the name is the file name (dcomp reproduce NAME)');
    assert.ok(e.claims.length > 0, `${f} declares claims`);
    const subset = baselineSubset(e);
    assert.ok(subset, `${f} declares a baseline subset`);
    const units = expandExperiment(subset);
    const stored = join(ROOT, 'results', 'baselines', `${e.name}.csv`);
    assert.ok(existsSync(stored), `${stored} exists (dcomp baselines ${e.name} --update)`);
    const table = parseResultsCsv(readFileSync(stored, 'utf8'), stored);
    assert.equal(new Set(table.rows.map((r) => r.run_id)).size, units.length, `${stored} holds one run per unit of the subset`);
    assert.ok(table.rows.every((r) => r.experiment === e.name));
  }
  const list = dcomp(['reproduce', '--list'], cache);
  assert.equal(list.status, 0, list.stderr);
  for (const f of files) assert.match(list.stdout, new RegExp(`^${f.replace(/\.yaml$/, '')}\\s+\\d+\\s`, 'm'));
});
