import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { datasetCacheDir, loadDataset, locateDataset, resolveDataset } from '../src/data/resolve.js';
import { embeddedDatasetDir, loadRegistry, parseRegistry, type DatasetInfo } from '../src/data/datasets.js';
import { DcompError, UsageError } from '../src/core/errors.js';
import { defaultCacheDir, datasetLocations } from '../src/cli/paths.js';
import { DATA_DIR } from './data-dir.js';

const TINY = '1 1:1 3:0.5\n-1 2:2\n1 3:1\n';
const TINY_SHA = createHash('sha256').update(TINY).digest('hex');

function tinyInfo(url: string, sha256 = TINY_SHA): DatasetInfo {
  return { name: 'tiny', url, sha256, rows: 3, features: 3, nnz: 4, labels: [-1, 1], size: TINY.length };
}

async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'dcomp-resolve-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Handler = Parameters<typeof createServer>[1];

async function withServer<T>(handler: Handler, body: (base: string, hits: () => number) => Promise<T>): Promise<T> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    handler!(req, res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  try {
    return await body(`http://127.0.0.1:${port}`, () => hits);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  }
}

async function listFiles(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).sort() : [];
}

test('a name is looked up in --data-dir, then DCOMP_DATA_DIR, then the cache, then the embedded copy', async () => {
  await withTempDir(async (dir) => {
    const [dataDir, envDir, cache] = ['data', 'env', 'cache'].map((d) => join(dir, d));
    for (const d of [dataDir, envDir, datasetCacheDir(cache)]) await mkdir(d, { recursive: true });
    const text = new TextEncoder().encode(TINY);
    const registry = [tinyInfo('http://127.0.0.1:9/never'), { ...loadRegistry().find((d) => d.name === 'mushrooms')! }];
    const where = { dataDir, envDataDir: envDir, cacheDir: cache, registry, download: false };

    assert.equal((await resolveDataset('mushrooms', where)).source, 'embedded');
    assert.equal((await resolveDataset('mushrooms', where)).path, join(embeddedDatasetDir(), 'mushrooms.bz2'));

    await writeFile(join(datasetCacheDir(cache), 'tiny'), text);
    assert.equal((await resolveDataset('tiny', where)).source, 'cache');
    await writeFile(join(envDir, 'tiny.bz2'), text);
    assert.deepEqual(await resolveDataset('tiny', where), { name: 'tiny', path: join(envDir, 'tiny.bz2'), source: 'env', info: registry[0] });
    await writeFile(join(dataDir, 'tiny'), text);
    assert.equal((await resolveDataset('tiny', where)).path, join(dataDir, 'tiny'));
    assert.deepEqual(locateDataset('tiny', where).map((r) => r.source), ['data-dir', 'env', 'cache']);
  });
});

test('a path (with a slash, or an existing file) is read as is', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'mushrooms');
    await writeFile(path, TINY);
    const resolved = await resolveDataset(path, { download: false });
    assert.deepEqual(resolved, { name: path, path, source: 'path', info: undefined });
    // a file under a registry name is still read as is: no registry checksum for paths
    const data = await loadDataset(path, { download: false });
    assert.equal(data.X.rows, 3);
    await assert.rejects(loadDataset(join(dir, 'nope')), /cannot read .*nope: no such file/);
  });
});

test('a --data-dir that is not a directory is a usage error naming --data-dir', async () => {
  await assert.rejects(resolveDataset('mushrooms', { dataDir: '/nonexistent/dcomp-test' }), (err: unknown) => err instanceof UsageError && /--data-dir/.test(err.message));
});

test('an unknown name that is nowhere is an error listing the known datasets', async () => {
  await assert.rejects(resolveDataset('no-such-set', { download: false }), /dataset 'no-such-set' not found .* not in the registry \(known: mushrooms, a9a/);
});

test('a registry name whose local copy has another SHA-256 is an error naming the file and both hashes', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'tiny'), TINY + '1 1:1\n');
    const info = tinyInfo('http://127.0.0.1:9/never');
    await assert.rejects(loadDataset('tiny', { dataDir: dir, registry: [info], download: false }), (err: unknown) => {
      assert.ok(err instanceof DcompError);
      assert.ok(err.message.includes(join(dir, 'tiny')), err.message);
      assert.ok(err.message.includes(TINY_SHA), err.message);
      assert.ok(err.message.includes(createHash('sha256').update(TINY + '1 1:1\n').digest('hex')), err.message);
      return true;
    });
    await writeFile(join(dir, 'tiny'), TINY);
    const ok = await loadDataset('tiny', { dataDir: dir, registry: [info], download: false });
    assert.equal(ok.sha256, TINY_SHA);
    assert.equal(ok.resolved.source, 'data-dir');
  });
});

test('a download with the right hash lands in the cache, reports progress, and is not fetched again', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(TINY.length) });
      res.end(TINY);
    },
    async (base, hits) =>
      withTempDir(async (cache) => {
        const registry = [tinyInfo(`${base}/tiny`)];
        const progress: [number, number | undefined][] = [];
        const resolved = await resolveDataset('tiny', { cacheDir: cache, registry, onDownloadProgress: (r, t) => progress.push([r, t]) });
        assert.equal(resolved.source, 'downloaded');
        assert.equal(resolved.path, join(datasetCacheDir(cache), 'tiny'));
        assert.equal(await readFile(resolved.path, 'utf8'), TINY);
        assert.deepEqual(progress.at(-1), [TINY.length, TINY.length]);
        assert.deepEqual(await listFiles(datasetCacheDir(cache)), ['tiny']);
        const again = await loadDataset('tiny', { cacheDir: cache, registry });
        assert.equal(again.resolved.source, 'cache');
        assert.equal(again.X.rows, 3);
        assert.equal(hits(), 1);
      }),
  );
});

test('a download whose SHA-256 does not match is an error naming both hashes and leaves no file', async () => {
  const wrong = '0'.repeat(64);
  await withServer(
    (_req, res) => res.end(TINY),
    async (base) =>
      withTempDir(async (cache) => {
        await assert.rejects(resolveDataset('tiny', { cacheDir: cache, registry: [tinyInfo(`${base}/tiny`, wrong)] }), (err: unknown) => {
          assert.ok(err instanceof DcompError);
          assert.match(err.message, new RegExp(`SHA-256 ${TINY_SHA}.*expects ${wrong}`));
          return true;
        });
        assert.deepEqual(await listFiles(datasetCacheDir(cache)), []);
      }),
  );
});

test('a connection dropped midway is a download error and leaves no file', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(TINY);
      setTimeout(() => res.socket?.destroy(), 20);
    },
    async (base) =>
      withTempDir(async (cache) => {
        await assert.rejects(resolveDataset('tiny', { cacheDir: cache, registry: [tinyInfo(`${base}/tiny`)] }), /could not download tiny from .*connection lost/);
        assert.deepEqual(await listFiles(datasetCacheDir(cache)), []);
      }),
  );
});

test('an HTTP error status is a download error and leaves no file', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(404);
      res.end('not here');
    },
    async (base) =>
      withTempDir(async (cache) => {
        await assert.rejects(resolveDataset('tiny', { cacheDir: cache, registry: [tinyInfo(`${base}/tiny`)] }), /could not download tiny .*HTTP 404/);
        assert.deepEqual(await listFiles(datasetCacheDir(cache)), []);
      }),
  );
});

test('offline, the error says the download failed and how to point --data-dir or DCOMP_DATA_DIR at a copy', async () => {
  // a port that was just free: connection refused
  const base = await withServer((_req, res) => res.end(), async (b) => b);
  await withTempDir(async (cache) => {
    await assert.rejects(resolveDataset('tiny', { cacheDir: cache, registry: [tinyInfo(`${base}/tiny`)] }), (err: unknown) => {
      assert.ok(err instanceof DcompError && !(err instanceof UsageError));
      assert.match(err.message, /could not download tiny from http:\/\/127\.0\.0\.1/);
      assert.match(err.message, /--data-dir/);
      assert.match(err.message, /DCOMP_DATA_DIR/);
      return true;
    });
    assert.deepEqual(await listFiles(datasetCacheDir(cache)), []);
  });
});

test('an injected fetch is used for downloads, and a bzip2 body is kept as NAME.bz2', async () => {
  const bz2 = await readFile(join(embeddedDatasetDir(), 'mushrooms.bz2'));
  const mushrooms = loadRegistry().find((d) => d.name === 'mushrooms')!;
  const info = { ...mushrooms, embedded: undefined, url: 'https://example.invalid/mushrooms' };
  let asked = '';
  const fakeFetch = (async (url: string | URL | Request) => {
    asked = String(url);
    return new Response(bz2, { status: 200 });
  }) as typeof fetch;
  await withTempDir(async (cache) => {
    const resolved = await resolveDataset('mushrooms', { cacheDir: cache, registry: [info], fetch: fakeFetch });
    assert.equal(asked, info.url);
    assert.equal(resolved.path, join(datasetCacheDir(cache), 'mushrooms.bz2'));
    const data = await loadDataset('mushrooms', { cacheDir: cache, registry: [info], fetch: fakeFetch });
    assert.equal(data.X.rows, 8124);
    assert.equal(data.resolved.source, 'cache');
  });
});

test('with downloads disabled a missing registry dataset says how to fetch it', async () => {
  await withTempDir(async (cache) => {
    await assert.rejects(resolveDataset('tiny', { cacheDir: cache, registry: [tinyInfo('http://127.0.0.1:9/x')], download: false }), /dcomp datasets fetch tiny/);
  });
});

test('a registry with a duplicate name, a bad hash or descending labels is rejected', () => {
  const good = tinyInfo('https://example.org/tiny');
  assert.equal(parseRegistry({ datasets: [good] }).length, 1);
  assert.throws(() => parseRegistry({ datasets: [good, good] }), /listed twice/);
  assert.throws(() => parseRegistry({ datasets: [{ ...good, sha256: 'abc' }] }), /not a valid dataset registry/);
  assert.throws(() => parseRegistry({ datasets: [{ ...good, labels: [1, -1] }] }), /ascending/);
});

test('the cache dir follows an absolute XDG_CACHE_HOME, else ~/.cache/dcomp', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }, '/home/u'), '/x/cache/dcomp');
  assert.equal(defaultCacheDir({}, '/home/u'), '/home/u/.cache/dcomp');
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '' }, '/home/u'), '/home/u/.cache/dcomp');
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: 'relative' }, '/home/u'), '/home/u/.cache/dcomp');
  const where = datasetLocations('/d', { DCOMP_DATA_DIR: '/e', XDG_CACHE_HOME: '/c' });
  assert.deepEqual(where, { dataDir: '/d', envDataDir: '/e', cacheDir: '/c/dcomp' });
  assert.equal(datasetLocations(undefined, { DCOMP_DATA_DIR: '' }).envDataDir, undefined);
});

test('copies found through DCOMP_DATA_DIR resolve for every registry dataset present there', async () => {
  const envDataDir = DATA_DIR;
  await withTempDir(async (cache) => {
    for (const info of loadRegistry()) {
      const resolved = await resolveDataset(info.name, { envDataDir, cacheDir: cache, download: false });
      assert.equal(resolved.source, 'env', info.name);
    }
  });
});
