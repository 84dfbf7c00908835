import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLibsvmFile } from '../src/data/libsvm.js';
import { embeddedDatasetDir, loadRegistry } from '../src/data/datasets.js';
import { DATA_DIR } from './data-dir.js';

// tests run from dist/test, so the repo root is ../.. and the shared data ../../../shared/datasets
const dataDir = DATA_DIR;

interface ManifestRow {
  name: string;
  rows: number;
  features: number;
  nnz: number;
  labels: number[];
  sha256: string;
  size: number;
  url: string;
}

function readManifest(): ManifestRow[] {
  const [header, ...lines] = readFileSync(join(dataDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const cols = header.split('\t');
  const at = (cells: string[], name: string): string => cells[cols.indexOf(name)];
  return lines.map((line) => {
    const cells = line.split('\t');
    return {
      name: at(cells, 'name'),
      rows: Number(at(cells, 'rows')),
      features: Number(at(cells, 'features')),
      nnz: Number(at(cells, 'nnz')),
      labels: at(cells, 'labels').split(',').map(Number),
      sha256: at(cells, 'sha256_of_uncompressed_text'),
      size: Number(at(cells, 'size_bytes')),
      url: at(cells, 'canonical_url'),
    };
  });
}

const manifest = readManifest();

test('the registry holds exactly the facts of the shared MANIFEST.tsv', () => {
  const registry = loadRegistry();
  assert.deepEqual(registry.map((d) => d.name).sort(), manifest.map((m) => m.name).sort());
  for (const m of manifest) {
    const entry = registry.find((d) => d.name === m.name)!;
    assert.deepEqual(
      { rows: entry.rows, features: entry.features, nnz: entry.nnz, labels: entry.labels, sha256: entry.sha256, size: entry.size, url: entry.url },
      { rows: m.rows, features: m.features, nnz: m.nnz, labels: m.labels, sha256: m.sha256, size: m.size, url: m.url },
      m.name,
    );
  }
});

for (const m of manifest) {
  test(`real ${m.name} parses to the MANIFEST rows, features, nnz, labels and sha256`, async () => {
    const data = await readLibsvmFile(join(dataDir, m.name));
    assert.equal(data.X.rows, m.rows);
    assert.equal(data.X.cols, m.features);
    assert.equal(data.X.rowPtr[data.X.rows], m.nnz);
    assert.equal(data.X.colIdx.length, m.nnz);
    assert.equal(data.sha256, m.sha256);
    assert.equal(data.textBytes, m.size);
    assert.deepEqual(data.labelValues, m.labels);
    let positives = 0;
    for (const v of data.b) {
      assert.ok(v === 1 || v === -1);
      if (v === 1) positives++;
    }
    // the +1 counts of the shared README (larger label → +1)
    const expectedPositives: Record<string, number> = { mushrooms: 4208, a9a: 7841, w8a: 1479, phishing: 6157, a1a: 395 };
    assert.equal(positives, expectedPositives[m.name]);
  });
}

test('the first rows of mushrooms and phishing read exactly as written in the file', async () => {
  const mushrooms = await readLibsvmFile(join(dataDir, 'mushrooms'));
  // "1 6:1 8:1 15:1 21:1 29:1 33:1 34:1 37:1 42:1 50:1 53:1 57:1 67:1 76:1 78:1 81:1 84:1 86:1 93:1 103:1 111:1 "
  const first = [6, 8, 15, 21, 29, 33, 34, 37, 42, 50, 53, 57, 67, 76, 78, 81, 84, 86, 93, 103, 111];
  assert.equal(mushrooms.b[0], -1);
  assert.deepEqual([...mushrooms.X.colIdx.subarray(0, mushrooms.X.rowPtr[1])], first.map((i) => i - 1));
  assert.ok(mushrooms.X.values.subarray(0, mushrooms.X.rowPtr[1]).every((v) => v === 1));
  assert.equal(mushrooms.b[1], 1);

  const phishing = await readLibsvmFile(join(dataDir, 'phishing'));
  assert.equal(phishing.b[0], -1);
  for (let r = 0; r < phishing.X.rows; r++) assert.equal(phishing.X.rowPtr[r + 1] - phishing.X.rowPtr[r], 30);
  assert.ok(phishing.X.values.every((v) => v === 0.18257));
});

test('w8a rows with a label and no features are all-zero rows', async () => {
  const w8a = await readLibsvmFile(join(dataDir, 'w8a'));
  let empty = 0;
  for (let r = 0; r < w8a.X.rows; r++) if (w8a.X.rowPtr[r + 1] === w8a.X.rowPtr[r]) empty++;
  assert.ok(empty > 0);
});

test('a1a with --features 123 lines up with the a9a feature space', async () => {
  const a1a = await readLibsvmFile(join(dataDir, 'a1a'), { features: 123 });
  assert.equal(a1a.X.cols, 123);
  assert.equal(a1a.X.rowPtr[a1a.X.rows], 22249);
});

test('the embedded mushrooms.bz2 decodes to exactly the plain LIBSVM file', async () => {
  const plain = await readLibsvmFile(join(dataDir, 'mushrooms'));
  const embedded = await readLibsvmFile(join(embeddedDatasetDir(), 'mushrooms.bz2'));
  assert.equal(embedded.sha256, plain.sha256);
  assert.deepEqual(embedded.X, plain.X);
  assert.deepEqual(embedded.b, plain.b);
  assert.deepEqual(embedded.labelValues, plain.labelValues);
  const size = readFileSync(join(embeddedDatasetDir(), 'mushrooms.bz2')).length;
  assert.ok(size < 20000, `embedded copy is ${size} bytes`);
});

