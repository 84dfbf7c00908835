import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { datasetsCommand, type DatasetsCommandIo } from '../src/cli/datasets.js';
import { loadRegistry, type DatasetInfo } from '../src/data/datasets.js';
import { DcompError, UsageError } from '../src/core/errors.js';
import { DATA_DIR } from './data-dir.js';

const sharedDir = DATA_DIR;

async function run(args: string[], io: DatasetsCommandIo): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const command = datasetsCommand({ ...io, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t + '\n') });
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return { stdout, stderr };
}

async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'dcomp-cli-data-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('datasets list prints one row per registry dataset with rows, features, nnz and where it resolves', async () => {
  await withTempDir(async (cache) => {
    const { stdout } = await run(['list'], { env: { DCOMP_DATA_DIR: sharedDir, XDG_CACHE_HOME: cache } });
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0], /^name\s+rows\s+features\s+nnz\s+location$/);
    assert.equal(lines.length, 1 + loadRegistry().length);
    assert.match(stdout, new RegExp(`^mushrooms\\s+8124\\s+112\\s+170604\\s+\\$DCOMP_DATA_DIR: ${sharedDir}/mushrooms$`, 'm'));
    assert.match(stdout, /^a9a\s+32561\s+123\s+451592\s+/m);

    const bare = await run(['list'], { env: { XDG_CACHE_HOME: cache } });
    assert.match(bare.stdout, /^mushrooms\s.*embedded: .*mushrooms\.bz2$/m);
    assert.match(bare.stdout, /^w8a\s.*not cached$/m);
  });
});

test('datasets verify checks every local copy and passes on the real files', async () => {
  await withTempDir(async (cache) => {
    const { stdout } = await run(['verify'], { env: { DCOMP_DATA_DIR: sharedDir, XDG_CACHE_HOME: cache } });
    assert.match(stdout, /^mushrooms\s+ok\s+\$DCOMP_DATA_DIR\s/m);
    assert.match(stdout, /^mushrooms\s+ok\s+embedded\s/m);
    for (const name of ['a9a', 'w8a', 'phishing', 'a1a']) assert.match(stdout, new RegExp(`^${name}\\s+ok\\s`, 'm'));
  });
});

test('datasets verify fails (exit 1) on a copy whose SHA-256 differs, naming both hashes', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'a1a'), '1 1:1\n-1 2:1\n');
    const io: DatasetsCommandIo = { env: { XDG_CACHE_HOME: dir } };
    let stderr = '';
    let stdout = '';
    const command = datasetsCommand({ ...io, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    await assert.rejects(command.parseAsync(['verify', 'a1a', '--data-dir', dir], { from: 'user' }), (err: unknown) => {
      assert.ok(err instanceof DcompError && err.exitCode === 1);
      return true;
    });
    assert.match(stdout, /^a1a\s+MISMATCH\s+--data-dir\s/m);
    assert.ok(stderr.includes(loadRegistry().find((d) => d.name === 'a1a')!.sha256), stderr);
    assert.ok(stderr.includes(createHash('sha256').update('1 1:1\n-1 2:1\n').digest('hex')), stderr);
  });
});

test('datasets verify with a name not found locally or unknown fails', async () => {
  await withTempDir(async (cache) => {
    await assert.rejects(run(['verify', 'w8a'], { env: { XDG_CACHE_HOME: cache } }), DcompError);
    await assert.rejects(run(['verify', 'nope'], { env: { XDG_CACHE_HOME: cache } }), (err: unknown) => err instanceof UsageError && /unknown dataset 'nope'/.test(err.message));
  });
});

test('datasets fetch downloads into the cache once, then says it is already there', async () => {
  const text = '1 1:1\n-1 2:1\n';
  const info: DatasetInfo = { name: 'tiny', url: '', sha256: createHash('sha256').update(text).digest('hex'), rows: 2, features: 2, nnz: 2, labels: [-1, 1], size: text.length };
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end(text);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    info.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tiny`;
    await withTempDir(async (cache) => {
      const io: DatasetsCommandIo = { env: { XDG_CACHE_HOME: cache, CI: '1' }, registry: [info] };
      const first = await run(['fetch', 'tiny'], io);
      assert.match(first.stderr, /tiny: downloaded and verified/);
      assert.deepEqual(await readdir(join(cache, 'dcomp', 'datasets')), ['tiny']);
      const second = await run(['fetch', 'tiny'], io);
      assert.match(second.stderr, /already in the cache/);
      assert.equal(hits, 1);
    });
  } finally {
    await new Promise<void>((ok) => server.close(() => ok()));
  }
});
