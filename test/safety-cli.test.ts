/**
 * No command exits 0 having lost output, and every failure is one line with the right exit code: the
 * built CLI by fault injection (missing and unwritable directories, /dev/full, a concurrent writer,
 * kill -9 then a corrupted middle block, outputs that are inputs, hostile YAML, LIBSVM and CSV).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPEC_VERSION } from '../src/core/version.js';
import { parseCsvRecords } from '../src/report/read-csv.js';
import { renderSeries, type Series } from '../src/report/plot.js';
import { BIN, childEnv, DATA_DIR, dcomp, dcompAsync, ROOT, tempDir, withoutTime, writeExperiment, type Finished } from './bench-cli-helpers.js';

const dir = tempDir('dcomp-safety-cli-');
const cache = join(dir, 'cache');
const at = (name: string) => join(dir, name);

/** dcomp with stdout on /dev/full (a disk that is always full). */
function dcompToFullDisk(args: string[]): Finished {
  const fd = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(cache), stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: '', stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

/** Exit 1 (or `code`) with exactly one line on stderr matching `pattern`: no stack, no "internal error". */
function assertOneLineFailure(r: Finished, pattern: RegExp, code = 1): void {
  assert.equal(r.status, code, r.stderr);
  assert.ok(!r.stderr.includes('internal error') && !/\n\s+at /.test(r.stderr), `a stack trace: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line, got: ${r.stderr}`);
  assert.match(lines[0], pattern);
}

function runIds(text: string): string[] {
  // the file may be empty or hold half a header while the writer is still starting
  const records = parseCsvRecords(text);
  if (records.length === 0 || !records[0].terminated) return [];
  const c = records[0].cells.indexOf('run_id');
  if (c < 0) return [];
  return [...new Set(records.slice(1).filter((r) => r.terminated).map((r) => r.cells[c]))];
}

const tiny = writeExperiment(dir, 'tiny', `name: tiny\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\niters: 4\nlog_every: 2\ncompressor: topk\nk: 5\nmatrix:\n  method: [cgd, ef21]\n`);
const reference = at('tiny.csv');

/** The tiny experiment's results, made once (tests may run alone with --test-name-pattern). */
function ensureReference(): void {
  if (existsSync(reference)) return;
  const made = dcomp(['bench', tiny, '--out', reference, '--no-plot', '--quiet'], cache);
  assert.equal(made.status, 0, made.stderr);
}

test('bench, merge, plot, perf and compare: a missing directory, a directory as the file and a full disk are one line, exit 1', () => {
  ensureReference();
  const missing = at('no-such-dir/out.csv');
  assertOneLineFailure(dcomp(['bench', tiny, '--out', missing, '--quiet'], cache), /^dcomp: .*no-such-dir\/out\.csv: cannot write: the directory .*no-such-dir does not exist \(ENOENT\)$/);
  assertOneLineFailure(dcomp(['bench', tiny, '--out', dir, '--quiet'], cache), /^dcomp: .*: cannot write: is a directory \(EISDIR\)/);
  assertOneLineFailure(dcomp(['bench', tiny, '--out', '/dev/full', '--quiet', '--no-plot'], cache), /^dcomp: \/dev\/full: cannot write: no space left on device \(ENOSPC\)$/);
  assertOneLineFailure(dcompToFullDisk(['bench', tiny, '--out', '-', '--quiet', '--no-plot']), /^dcomp: stdout: cannot write: no space left on device \(ENOSPC\)$/);
  assertOneLineFailure(dcomp(['merge', reference, '--experiment', tiny, '--out', missing], cache), /cannot write: the directory .*no-such-dir does not exist/);
  assertOneLineFailure(dcomp(['merge', reference, '--experiment', tiny, '--out', '/dev/full'], cache), /^dcomp: \/dev\/full: cannot write: no space left on device/);
  assertOneLineFailure(dcompToFullDisk(['merge', reference, '--experiment', tiny]), /^dcomp: stdout: cannot write: no space left on device/);
  assertOneLineFailure(dcomp(['plot', reference, '--svg', missing], cache), /cannot write: the directory .*no-such-dir does not exist/);
  assertOneLineFailure(dcomp(['plot', reference, '--svg', '/dev/full'], cache), /^dcomp: \/dev\/full: cannot write: no space left on device/);
  assertOneLineFailure(dcompToFullDisk(['plot', reference]), /^dcomp: stdout: cannot write: no space left on device/);
  assertOneLineFailure(dcompToFullDisk(['compare', reference, reference]), /^dcomp: stdout: cannot write: no space left on device/);
  assertOneLineFailure(dcompToFullDisk(['run', '--dataset', 'mushrooms', '--method', 'gd', '--iters', '2']), /^dcomp: stdout: cannot write: no space left on device/);
  assertOneLineFailure(dcompToFullDisk(['traffic', '--method', 'gtopk', '--k', '10', '--workers', '2,4', '--d', '100', '--no-plot']), /^dcomp: stdout: cannot write: no space left on device/);
  // perf claims its --out before measuring: the mistake costs a second, not the benchmark
  const perf = dcomp(['perf', '--datasets', 'mushrooms', '--cases', 'parse', '--out', missing], cache);
  assertOneLineFailure(perf, /cannot write: the directory .*no-such-dir does not exist/);
  assert.equal(existsSync(at('no-such-dir')), false);
});

test('a directory that refuses new files fails the bench before it runs (root-proof: chmod 0555, else sysfs)', (t) => {
  const ro = at('read-only');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  let target = ro;
  try {
    writeFileSync(join(ro, 'probe'), 'x'); // succeeds as root: chmod does not stop root
    unlinkSync(join(ro, 'probe'));
    target = '/sys';
  } catch {
    // chmod is enforced
  }
  t.diagnostic(`unwritable directory: ${target}`);
  assert.throws(() => writeFileSync(join(target, `probe-${process.pid}`), 'x'), /EACCES|EPERM/, 'the fault is real');
  const r = dcomp(['bench', tiny, '--out', join(target, 'out.csv'), '--quiet'], cache);
  assertOneLineFailure(r, /out\.csv: cannot write: permission denied \(EACCES\)/);
});

test('an --out that is an input (the experiment file, a dataset, a merged or plotted file) is refused with exit 2 and left intact', () => {
  ensureReference();
  const experimentBefore = readFileSync(tiny, 'utf8');
  assertOneLineFailure(dcomp(['bench', tiny, '--out', tiny, '--quiet'], cache), /tiny\.yaml: is also an input of this command/, 2);
  assert.equal(readFileSync(tiny, 'utf8'), experimentBefore);

  const dataDir = at('data');
  mkdirSync(dataDir);
  copyFileSync(join(DATA_DIR, 'mushrooms'), join(dataDir, 'mushrooms'));
  const dataBefore = readFileSync(join(dataDir, 'mushrooms'));
  assertOneLineFailure(dcomp(['bench', tiny, '--data-dir', dataDir, '--out', join(dataDir, 'mushrooms'), '--quiet'], cache), /mushrooms: is also an input of this command/, 2);
  assert.ok(readFileSync(join(dataDir, 'mushrooms')).equals(dataBefore));

  const resultsBefore = readFileSync(reference, 'utf8');
  assertOneLineFailure(dcomp(['merge', reference, '--experiment', tiny, '--out', reference], cache), /tiny\.csv: is also an input of this command/, 2);
  assertOneLineFailure(dcomp(['plot', reference, '--svg', reference], cache), /tiny\.csv: is also an input of this command/, 2);
  assert.equal(readFileSync(reference, 'utf8'), resultsBefore);
});

const slow = writeExperiment(
  dir,
  'slow',
  `name: slow\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\niters: 4000\nlog_every: 500\ncompressor: topk\nmatrix:\n  method: [cgd, ef21]\n  k: [1, 2, 3]\n`,
);

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 12000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a second bench on the same --out is refused naming the holder; after kill -9 the stale lock is taken over and the file resumed', async () => {
  const file = at('concurrent.csv');
  const first = dcompAsync(['bench', slow, '--jobs', '1', '--out', file, '--no-plot', '--quiet'], cache);
  const exited = new Promise<void>((resolve) => first.on('exit', () => resolve()));
  await waitFor(() => existsSync(`${file}.lock`), 'the lock');
  const second = dcomp(['bench', slow, '--out', file, '--no-plot', '--quiet'], cache);
  assertOneLineFailure(second, new RegExp(`concurrent\\.csv: another dcomp is writing this file \\(pid ${first.pid} on .*"dcomp bench .*slow\\.yaml"`));
  const resumeWhileHeld = dcomp(['bench', slow, '--out', file, '--resume', '--no-plot', '--quiet'], cache);
  assert.equal(resumeWhileHeld.status, 1, resumeWhileHeld.stderr);
  first.kill('SIGKILL');
  await exited;
  assert.ok(existsSync(`${file}.lock`), 'kill -9 leaves the lock behind');
  const resumed = dcomp(['bench', slow, '--out', file, '--resume', '--jobs', '2', '--no-plot', '--quiet'], cache);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(existsSync(`${file}.lock`), false);
  assert.equal(runIds(readFileSync(file, 'utf8')).length, 6);
});

test('kill -9, then a corrupted middle block: resume recomputes from that run, says so, and the file equals an uninterrupted one', async () => {
  const complete = at('slow-reference.csv');
  const ref = dcomp(['bench', slow, '--jobs', '2', '--out', complete, '--no-plot', '--quiet'], cache);
  assert.equal(ref.status, 0, ref.stderr);
  const file = at('killed.csv');
  const child = dcompAsync(['bench', slow, '--jobs', '1', '--out', file, '--no-plot', '--quiet'], cache);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // three runs started in the file: at least two are complete
  await waitFor(() => existsSync(file) && runIds(readFileSync(file, 'utf8')).length >= 3, 'three runs in the file');
  child.kill('SIGKILL');
  await exited;
  const lines = readFileSync(file, 'utf8').split('\n');
  const rowsPerRun = 4000 / 500 + 1;
  // the second run's block is lines 1+rowsPerRun … 2·rowsPerRun (0-based, after the header); drop its fourth row
  const dropped = 1 + rowsPerRun + 3;
  writeFileSync(file, lines.filter((_, i) => i !== dropped).join('\n'));
  const resumed = dcomp(['bench', slow, '--resume', '--jobs', '2', '--out', file, '--no-plot', '--quiet'], cache);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resume: .*killed\\.csv:${dropped + 1}: run 2 \\(run_id \\w+\\): iteration 1500 is missing \\(line ${dropped + 1} has iteration 2000; the run logs 0\\.\\.4000 by 500\\); it and the 4 run\\(s\\) after it are recomputed`));
  assert.match(resumed.stderr, /resume: 1 of 6 runs already complete/);
  assert.equal(withoutTime(readFileSync(file, 'utf8')), withoutTime(readFileSync(complete, 'utf8')));
});

test('YAML alias bombs and oversized experiment files exit 2 with a message', () => {
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
    const prev = 'abcdefgh'[i];
    laughs.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const bomb = writeExperiment(dir, 'bomb', `${laughs.join('\n')}\nname: bomb\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\n`);
  assertOneLineFailure(dcomp(['bench', bomb, '--list'], cache), /bomb\.yaml: its YAML aliases expand too much .*at most 100 alias uses/, 2);
  const huge = writeExperiment(dir, 'huge', `name: huge\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\nmethod: gd\ndescription: "${'x'.repeat(2 << 20)}"\n`);
  assertOneLineFailure(dcomp(['bench', huge, '--list'], cache), /huge\.yaml: the experiment file is \d+ bytes; at most 1048576 \(1 MiB\) are accepted/, 2);
  // a byte order mark is not an error
  const bom = writeExperiment(dir, 'bom', `\ufeffname: bom\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\nmethod: gd\n`);
  const listed = dcomp(['bench', bom, '--list'], cache);
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /# bom: 1 runs/);
});

test('LIBSVM: an index too large to allocate names file:line and the limit; a BOM is accepted; control characters are escaped', () => {
  writeFileSync(at('big.libsvm'), '1 1:1\n-1 2:1 2000000000:1\n');
  assertOneLineFailure(dcomp(['run', '--dataset', at('big.libsvm'), '--method', 'gd', '--iters', '1'], cache), /big\.libsvm:2: feature index in '2000000000:1' is too large: dcomp supports dimensions up to 67108864 \(2\^26\)/);
  writeFileSync(at('bom.libsvm'), '\ufeff1 1:1\n-1 2:1\n');
  const bom = dcomp(['run', '--dataset', at('bom.libsvm'), '--method', 'gd', '--iters', '1'], cache);
  assert.equal(bom.status, 0, bom.stderr);
  writeFileSync(at('ctl.libsvm'), '1 1:1\n-1 2\x1b[2J:1\n');
  const ctl = dcomp(['run', '--dataset', at('ctl.libsvm'), '--method', 'gd', '--iters', '1'], cache);
  assertOneLineFailure(ctl, /ctl\.libsvm:2: bad feature index in '2\\x1b\[2J:1'/);
  assert.ok(!ctl.stderr.includes('\x1b'));
  // a dataset path with a control character: the CSV cell carries the escape, not the character
  const odd = at('we\x1bird.libsvm');
  copyFileSync(at('bom.libsvm'), odd);
  const cell = dcomp(['run', '--dataset', odd, '--method', 'gd', '--iters', '1'], cache);
  assert.equal(cell.status, 0, cell.stderr);
  assert.ok(!cell.stdout.includes('\x1b'));
  assert.ok(cell.stdout.includes('we\\x1bird.libsvm'));
});

test('CSV with a BOM is read by compare, plot and merge; compare and merge name a missing column, exit 1', () => {
  ensureReference();
  const bom = at('bom.csv');
  writeFileSync(bom, '\ufeff' + readFileSync(reference, 'utf8'));
  const same = dcomp(['compare', reference, bom], cache);
  assert.equal(same.status, 0, same.stderr);
  assert.equal(dcomp(['plot', bom], cache).status, 0);
  const merged = dcomp(['merge', bom, '--experiment', tiny], cache);
  assert.equal(merged.status, 0, merged.stderr);
  assert.equal(merged.stdout, readFileSync(reference, 'utf8'));

  const text = readFileSync(reference, 'utf8');
  const header = text.split('\n')[0].split(',');
  const j = header.indexOf('grad_norm_sq');
  writeFileSync(at('no-metric.csv'), text.split('\n').map((l) => (l === '' ? l : l.split(',').filter((_, i) => i !== j).join(','))).join('\n'));
  assertOneLineFailure(dcomp(['compare', reference, at('no-metric.csv')], cache), /no-metric\.csv:1: missing column "grad_norm_sq" in the header/);
  assertOneLineFailure(dcomp(['merge', at('no-metric.csv'), '--experiment', tiny], cache), /no-metric\.csv:1: missing column "grad_norm_sq"/);
  const lines = text.split('\n');
  writeFileSync(at('dup.csv'), [...lines.slice(0, 3), lines[2], ...lines.slice(3)].join('\n'));
  assertOneLineFailure(dcomp(['compare', reference, at('dup.csv')], cache), /dup\.csv:4: duplicated row: run_id "\w+" iteration "2" is also on line 3/);
});

test('messages that misled: no method, a header-only file, a default hosvd rank the user never passed', () => {
  ensureReference();
  const noMethod = writeExperiment(dir, 'no-method', `name: nm\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\n`);
  assertOneLineFailure(dcomp(['bench', noMethod, '--list'], cache), /no-method\.yaml: method: no run names a method; give `method` at the top level/, 2);
  const none = writeExperiment(dir, 'none', `name: none\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\nmethod: gd\nmatrix:\n  seed: [1]\nexclude:\n  - seed: [1]\n`);
  assertOneLineFailure(dcomp(['bench', none], cache), /none\.yaml: the experiment expands to no runs/, 2);
  writeFileSync(at('header-only.csv'), readFileSync(reference, 'utf8').split('\n')[0] + '\n');
  const plot = dcomp(['plot', at('header-only.csv')], cache);
  assertOneLineFailure(plot, /header-only\.csv: no data rows \(only a header\); nothing to plot/);
  assert.ok(!plot.stderr.includes('--filter'));
  const check = dcomp(['compressors', '--check', '--dataset', 'none', '--d', '3', '--compressor', 'hosvd,topk', '--samples', '50'], cache);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stderr, /hosvd ranks 1,2,2/);
  const given = dcomp(['compressors', '--check', '--dataset', 'none', '--d', '3', '--compressor', 'hosvd', '--ranks', '2'], cache);
  assert.equal(given.status, 2, 'a rank the user gives is still checked');
});

test('more than 12 plot series get distinct legend entries, with and without colour', () => {
  const series: Series[] = Array.from({ length: 30 }, (_, i) => ({ runId: `r${i}`, label: `run ${i}`, xs: [0, 1, 2], ys: [i, i + 1, i + 2] }));
  for (const color of [false, true]) {
    const text = renderSeries(series, { x: 'iteration', y: 'loss', log: false, color, width: 40, height: 10 });
    const legend = text.split('\n').filter((l) => / run \d+$/.test(l)).map((l) => l.replace(/ run \d+$/, ''));
    assert.equal(legend.length, 30);
    assert.equal(new Set(legend).size, 30, `legend glyphs repeat (color ${color}): ${legend.join(' | ')}`);
  }
});
