/**
 * cli/output by fault injection: every failed write is a DcompError naming the path and the cause;
 * outputs are locked and never one of the inputs; whole files are replaced by rename.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DcompError, UsageError } from '../src/core/errors.js';
import { escapeControl } from '../src/core/text.js';
import { claimOutput, openOutputStream, writeOutputFile } from '../src/cli/output.js';
import { terminalPolicy } from '../src/cli/io.js';
import { tempDir } from './bench-cli-helpers.js';

const dir = tempDir('dcomp-output-');

function throwsWrite(fn: () => unknown, pattern: RegExp, kind: typeof DcompError = DcompError): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
    assert.match((err as Error).message, pattern);
    assert.ok(!(err as Error).message.includes('\n'), 'one line');
    return true;
  });
}

/**
 * A directory this process cannot create files in. Tests may run as root, where chmod 0555 does not
 * stop writes; then sysfs, which refuses new files even to root. The probe proves the fault is real.
 */
function unwritableDirectory(): { path: string; how: string } | undefined {
  const ro = join(dir, 'read-only');
  mkdirSync(ro, { recursive: true });
  chmodSync(ro, 0o555);
  const candidates = [
    { path: ro, how: 'chmod 0555' },
    { path: '/sys', how: 'sysfs' },
  ];
  for (const c of candidates) {
    const probe = join(c.path, `dcomp-probe-${process.pid}`);
    try {
      writeFileSync(probe, 'x');
      unlinkSync(probe);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EPERM') return c;
    }
  }
  return undefined;
}

test('a missing directory, a path under a regular file and a directory given as the file are one-line errors naming the path', () => {
  const missing = join(dir, 'no-such-dir', 'deeper', 'x.csv');
  throwsWrite(() => writeOutputFile(missing, 'a\n'), /no-such-dir\/deeper\/x\.csv: cannot write: the directory .*no-such-dir does not exist \(ENOENT\)/);
  throwsWrite(() => openOutputStream(missing), /cannot write: the directory .*no-such-dir does not exist/);
  assert.equal(existsSync(join(dir, 'no-such-dir')), false, 'nothing created');
  const file = join(dir, 'regular');
  writeFileSync(file, 'data');
  throwsWrite(() => writeOutputFile(join(file, 'x.csv'), 'a\n'), /regular\/x\.csv: cannot write: .*regular is not a directory \(ENOTDIR\)/);
  throwsWrite(() => writeOutputFile(dir, 'a\n'), /cannot write: is a directory \(EISDIR\)/);
  assert.equal(readFileSync(file, 'utf8'), 'data');
});

test('createDirectories makes the missing parents of a default output path', () => {
  const nested = join(dir, 'results', 'e', '2', 'results.csv');
  writeOutputFile(nested, 'ok\n', { createDirectories: true });
  assert.equal(readFileSync(nested, 'utf8'), 'ok\n');
});

test('a directory the process may not write to is "permission denied", for whole files and streams', (t) => {
  const ro = unwritableDirectory();
  assert.ok(ro, 'found no directory that refuses new files (neither chmod 0555 nor sysfs)');
  t.diagnostic(`unwritable directory by ${ro.how}: ${ro.path}`);
  throwsWrite(() => writeOutputFile(join(ro.path, 'x.csv'), 'a\n'), /x\.csv: cannot write: permission denied \(EACCES\)/);
  throwsWrite(() => openOutputStream(join(ro.path, 'y.csv')), /y\.csv: cannot write: permission denied \(EACCES\)/);
});

test('a full disk (/dev/full) fails the write with ENOSPC, whole file or stream', () => {
  throwsWrite(() => writeOutputFile('/dev/full', 'a\n'), /^\/dev\/full: cannot write: no space left on device \(ENOSPC\)$/);
  const stream = openOutputStream('/dev/full');
  throwsWrite(() => stream.write('header\n'), /^\/dev\/full: cannot write: no space left on device \(ENOSPC\)$/);
  assert.ok(statSync('/dev/full').isCharacterDevice(), 'the device node is still a device (no rename over it)');
});

test('a whole file is replaced by rename: new inode, old mode, no temporary file left', () => {
  const file = join(dir, 'whole.csv');
  writeFileSync(file, 'old\n');
  chmodSync(file, 0o640);
  const before = statSync(file);
  writeOutputFile(file, 'new\n');
  const after = statSync(file);
  assert.equal(readFileSync(file, 'utf8'), 'new\n');
  assert.notEqual(after.ino, before.ino);
  assert.equal(after.mode & 0o777, 0o640);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('whole') && f !== 'whole.csv'), []);
});

test('a stream keeps the bytes it is told to keep and appends after them; fewer bytes than that is an error', () => {
  const file = join(dir, 'stream.csv');
  const first = openOutputStream(file, { syncEachWrite: true });
  first.write('header\n');
  first.write('row 1\n');
  first.write('partial ro');
  first.close();
  const resumed = openOutputStream(file, { keepBytes: 'header\nrow 1\n'.length });
  resumed.write('row 2\n');
  resumed.close();
  assert.equal(readFileSync(file, 'utf8'), 'header\nrow 1\nrow 2\n');
  throwsWrite(() => openOutputStream(file, { keepBytes: 1000 }), /has 19 bytes, fewer than the 1000 to keep/);
  assert.equal(readFileSync(file, 'utf8'), 'header\nrow 1\nrow 2\n', 'not truncated by the failed open');
});

test('a second writer is refused naming the holder; a lock whose process died is taken over; one from another host is not', () => {
  const file = join(dir, 'locked.csv');
  const claim = claimOutput(file, { command: 'dcomp bench first.yaml' });
  assert.ok(existsSync(`${file}.lock`));
  throwsWrite(() => claimOutput(file), new RegExp(`another dcomp is writing this file \\(pid ${process.pid} on ${hostname()}, "dcomp bench first\\.yaml"`));
  throwsWrite(() => openOutputStream(join(dir, '.', 'locked.csv')), /another dcomp is writing this file/, DcompError);
  claim.release();
  assert.equal(existsSync(`${file}.lock`), false);

  // a process that has exited: its pid is free, the lock is stale
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  assert.ok(deadPid > 0);
  writeFileSync(`${file}.lock`, JSON.stringify({ pid: deadPid, host: hostname(), command: 'dcomp bench killed.yaml', started: 'then' }) + '\n');
  const taken = openOutputStream(file, { command: 'dcomp bench second.yaml' });
  taken.write('x\n');
  assert.match(readFileSync(`${file}.lock`, 'utf8'), /second\.yaml/);
  taken.close();
  assert.equal(existsSync(`${file}.lock`), false);

  writeFileSync(`${file}.lock`, JSON.stringify({ pid: deadPid, host: 'elsewhere.example', command: 'dcomp bench remote.yaml', started: 'then' }) + '\n');
  throwsWrite(() => claimOutput(file), /pid \d+ on elsewhere\.example, "dcomp bench remote\.yaml"/);
  writeFileSync(`${file}.lock`, 'garbage');
  throwsWrite(() => claimOutput(file), /locked by .*locked\.csv\.lock, which names no process/);
  unlinkSync(`${file}.lock`);
});

test('an output that is one of the inputs (same path, symlink or hard link) is refused before anything is truncated', () => {
  const input = join(dir, 'input.yaml');
  writeFileSync(input, 'name: precious\n');
  const link = join(dir, 'input-link.yaml');
  const hard = join(dir, 'input-hard.yaml');
  symlinkSync(input, link);
  linkSync(input, hard);
  for (const out of [input, link, hard, join(dir, 'sub', '..', 'input.yaml')]) {
    if (out.includes('sub')) mkdirSync(join(dir, 'sub'), { recursive: true });
    throwsWrite(() => writeOutputFile(out, 'overwritten\n', { inputs: [input] }), /is also an input of this command/, UsageError);
    throwsWrite(() => openOutputStream(out, { inputs: [link] }), /is also an input of this command/, UsageError);
  }
  assert.equal(readFileSync(input, 'utf8'), 'name: precious\n');
  // inputs known only later (datasets once resolved) are checked by the claim before it opens
  const out = join(dir, 'later.csv');
  writeFileSync(out, 'data\n');
  const claim = claimOutput(out, { inputs: [input] });
  throwsWrite(() => claim.checkInputs([out]), /is also an input/, UsageError);
  assert.equal(existsSync(`${out}.lock`), false, 'the refused claim released its lock');
  assert.equal(readFileSync(out, 'utf8'), 'data\n');
});

test('escapeControl writes control characters as escapes and leaves printable text alone', () => {
  assert.equal(escapeControl('plain ünïcode ∇f'), 'plain ünïcode ∇f');
  assert.equal(escapeControl('a\x1b[31mred\tb\nc\rd\x00\x7f\u0085\u202e'), 'a\\x1b[31mred\\tb\\nc\\rd\\x00\\x7f\\x85\\u202e');
  assert.equal(escapeControl('line 1\nline\x1b 2', { keepNewlines: true }), 'line 1\nline\\x1b 2');
});

test('TERM=dumb, CI and NO_COLOR turn off bars, cursor control and colour even on a TTY', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  assert.deepEqual(terminalPolicy({}, { TERM: 'xterm-256color' }, tty), { progress: true, color: true });
  assert.deepEqual(terminalPolicy({}, { TERM: 'dumb' }, tty), { progress: false, color: false });
  assert.deepEqual(terminalPolicy({}, { CI: 'true' }, tty), { progress: false, color: false });
  assert.deepEqual(terminalPolicy({}, { NO_COLOR: '1' }, tty), { progress: false, color: false });
  assert.deepEqual(terminalPolicy({ quiet: true }, {}, tty), { progress: false, color: true });
  assert.deepEqual(terminalPolicy({}, {}, { isTTY: false } as NodeJS.WriteStream), { progress: false, color: false });
});
