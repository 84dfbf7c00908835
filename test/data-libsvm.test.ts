import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { LibsvmParser, parseDecimal, parseLibsvm, readLibsvmFile } from '../src/data/libsvm.js';
import { embeddedDatasetDir } from '../src/data/datasets.js';
import { DataFormatError, DcompError, UsageError } from '../src/core/errors.js';
import type { LabeledData } from '../src/data/types.js';

const enc = new TextEncoder();

function parse(text: string, options: { features?: number; labels?: number[] } = {}): LabeledData {
  return parseLibsvm(enc.encode(text), { file: 'f.txt', ...options });
}

/** Rows as [b, [[index1based, value], ...]] for easy comparison with hand-written expectations. */
function rowsOf(data: LabeledData): [number, [number, number][]][] {
  const out: [number, [number, number][]][] = [];
  for (let r = 0; r < data.X.rows; r++) {
    const entries: [number, number][] = [];
    for (let k = data.X.rowPtr[r]; k < data.X.rowPtr[r + 1]; k++) entries.push([data.X.colIdx[k] + 1, data.X.values[k]]);
    out.push([data.b[r], entries]);
  }
  return out;
}

function assertFormatError(text: string, line: number, detail: RegExp, options: { features?: number; labels?: number[] } = {}): void {
  assert.throws(
    () => parse(text, options),
    (err: unknown) => {
      assert.ok(err instanceof DataFormatError, `expected DataFormatError, got ${String(err)}`);
      assert.equal(err.file, 'f.txt');
      assert.equal(err.line, line);
      assert.ok(err.message.startsWith(`f.txt:${line}: `), err.message);
      assert.match(err.message, detail);
      return true;
    },
  );
}

test('a plain file parses into 0-based CSR with labels mapped smaller → -1 and larger → +1', () => {
  const data = parse('2 1:0.5 3:-2\n1 2:4\n2 3:1e-3\n');
  assert.equal(data.X.rows, 3);
  assert.equal(data.X.cols, 3);
  assert.deepEqual([...data.X.rowPtr], [0, 2, 3, 4]);
  assert.deepEqual([...data.X.colIdx], [0, 2, 1, 2]);
  assert.deepEqual([...data.X.values], [0.5, -2, 4, 0.001]);
  assert.deepEqual([...data.b], [1, -1, 1]);
  assert.deepEqual(data.labelValues, [1, 2]);
  assert.equal(data.source, 'f.txt');
  assert.ok(data.X.values instanceof Float64Array && data.X.colIdx instanceof Int32Array && data.X.rowPtr instanceof Int32Array);
});

test('labels 0/1 and +1/-1 map 0 and -1 to -1', () => {
  assert.deepEqual([...parse('0 1:1\n1 1:1\n').b], [-1, 1]);
  const signed = parse('+1 1:1\n-1 1:1\n+1 2:1\n');
  assert.deepEqual([...signed.b], [1, -1, 1]);
  assert.deepEqual(signed.labelValues, [-1, 1]);
});

test('comments, blank lines, CRLF, tabs, trailing spaces and rows without features parse', () => {
  const text = [
    '# a whole-line comment',
    '',
    '   ',
    '1 1:1 4:2   ',
    '-1\t2:3\t# trailing comment 5:5',
    '\t# indented comment',
    '-1 ',
    '1#comment right after the label',
    '1 3:1#comment right after a value',
    '-1',
  ].join('\r\n') + '\r\n';
  const data = parse(text);
  assert.deepEqual(rowsOf(data), [
    [1, [[1, 1], [4, 2]]],
    [-1, [[2, 3]]],
    [-1, []],
    [1, []],
    [1, [[3, 1]]],
    [-1, []],
  ]);
  assert.equal(data.X.cols, 4);
});

test('the last line may lack its newline', () => {
  assert.deepEqual(rowsOf(parse('1 1:1\n-1 2:5')), [
    [1, [[1, 1]]],
    [-1, [[2, 5]]],
  ]);
});

test('values in every decimal form read back to the same float64 as Number()', () => {
  const data = parse('1 1:1 2:-0.5 3:+.25 4:5. 5:1e3 6:-2.5E-2 7:0.1 8:123456789012345678 9:1e-320 10:0.18257\n-1 1:1\n');
  assert.deepEqual([...data.X.values.subarray(0, 10)], [1, -0.5, 0.25, 5, 1000, -0.025, 0.1, 123456789012345678, 1e-320, 0.18257]);
});

test('parseDecimal agrees with Number() on random doubles in shortest, fixed and exponential form', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 20 }), (x, digits) => {
      for (const s of [String(x), x.toExponential(digits), Math.abs(x) < 1e21 ? x.toFixed(digits) : String(x)]) {
        const bytes = enc.encode(s);
        const expected = Number(s);
        const got = parseDecimal(bytes, 0, bytes.length);
        if (!Number.isFinite(expected)) assert.ok(Number.isNaN(got));
        else assert.ok(Object.is(got, expected) || (got === 0 && expected === 0), `${s}: ${got} vs ${expected}`);
      }
    }),
    { numRuns: 2000, seed: 7 },
  );
});

test('parseDecimal rejects what is not a decimal number', () => {
  for (const s of ['', '+', '-', '.', 'e5', '1e', '1e+', 'abc', '1x', '0x10', 'NaN', 'Infinity', '1..2', '1e5.5', '--1', '1e999']) {
    const bytes = enc.encode(s);
    assert.ok(Number.isNaN(parseDecimal(bytes, 0, bytes.length)), `'${s}' should be rejected`);
  }
});

test('a token without a colon is an error naming file, line and index:value', () => {
  assertFormatError('1 1:1\n-1 5\n', 2, /bad token '5': expected index:value/);
});

test('a feature index of 0 is an error: indices are 1-based', () => {
  assertFormatError('1 0:1\n', 1, /feature index 0 in '0:1': indices are 1-based, expected ≥ 1/);
});

test('a negative or non-integer feature index is an error', () => {
  assertFormatError('1 1:1\n-1 -3:1\n', 2, /bad feature index in '-3:1': expected an integer index ≥ 1/);
  assertFormatError('1 1.5:1\n', 1, /bad feature index in '1.5:1'/);
  assertFormatError('1 :1\n', 1, /bad feature index in ':1'/);
});

test('indices that are not strictly ascending within a line are an error', () => {
  assertFormatError('1 1:1\n-1 3:1 2:1\n', 2, /feature index 2 after 3: expected strictly ascending/);
  assertFormatError('1 2:1 2:1\n', 1, /feature index 2 after 2/);
});

test('a bad value (letters, empty, malformed exponent) is an error naming the token', () => {
  assertFormatError('1 1:abc\n', 1, /bad value in '1:abc': expected a number after ':'/);
  assertFormatError('1 1:\n', 1, /bad value in '1:': expected a number/);
  assertFormatError('1 1:\r\n', 1, /bad value in '1:'/);
  assertFormatError('1 1:1e\n', 1, /bad value in '1:1e'/);
  assertFormatError('1 1:2:3\n', 1, /bad value in '1:2:3'/);
});

test('a bad label is an error', () => {
  assertFormatError('1 1:1\nyes 1:1\n', 2, /bad label 'yes': expected a number/);
  assertFormatError('1:1 2:1\n', 1, /bad label '1:1'/);
});

test('a third distinct label is an error at its line for a binary problem', () => {
  assertFormatError('1 1:1\n2 1:1\n\n# c\n3 1:1\n', 5, /third distinct label 3 \(after 1 and 2\): expected two labels/);
});

test('an empty file or one with only comments and blank lines is an error: no data rows', () => {
  assertFormatError('', 1, /no data rows/);
  assertFormatError('# only a comment\n\n  \n', 3, /no data rows/);
});

test('a file where every row has the same label is an error unless the label pair is given', () => {
  assert.throws(() => parse('1 1:1\n1 2:1\n'), (err: unknown) => err instanceof DcompError && /needs two distinct labels/.test(err.message));
  const data = parse('1 1:1\n1 2:1\n', { labels: [0, 1] });
  assert.deepEqual([...data.b], [1, 1]);
  assert.deepEqual(data.labelValues, [0, 1]);
});

test('a given label pair maps a test file like its training file and rejects other labels', () => {
  assertFormatError('0 1:1\n2 1:1\n', 2, /label 2 is not one of the expected labels 0 and 1/, { labels: [0, 1] });
});

test('line numbers count comment and blank lines', () => {
  assertFormatError('# header\n\n1 1:1\n\n-1 x\n', 5, /bad token 'x'/);
});

test('--features fixes d and an index above it is an error', () => {
  const data = parse('1 2:1\n-1 1:1\n', { features: 10 });
  assert.equal(data.X.cols, 10);
  assertFormatError('1 2:1\n-1 5:1\n', 2, /feature index 5 exceeds --features 4: expected indices from 1 to 4/, { features: 4 });
  assert.throws(() => parse('1 1:1\n', { features: 0 }), UsageError);
  assert.throws(() => parse('1 1:1\n', { features: 2.5 }), /--features must be a positive integer/);
});

test('the text may arrive in chunks of any size, splitting lines and tokens anywhere', () => {
  const text = '# c\r\n2 1:0.5 13:-2.25e1  \r\n\r\n1 2:4 # x\n2 3:1e-3 10:7\n1\n2 4:1';
  const whole = parse(text);
  const bytes = enc.encode(text);
  for (let size = 1; size <= bytes.length; size++) {
    const parser = new LibsvmParser({ file: 'f.txt' });
    // a reused buffer, as the bzip2 decoder hands out
    const scratch = new Uint8Array(size);
    for (let at = 0; at < bytes.length; at += size) {
      const piece = bytes.subarray(at, Math.min(at + size, bytes.length));
      scratch.set(piece);
      parser.push(scratch.subarray(0, piece.length));
      scratch.fill(0x41);
    }
    assert.deepEqual(rowsOf(parser.finish()), rowsOf(whole), `chunk size ${size}`);
  }
});

test('an error inside a line split across chunks still names the right line', () => {
  const bytes = enc.encode('1 1:1\n-1 2:1\n1 3:1 2:9\n');
  const parser = new LibsvmParser({ file: 'f.txt' });
  assert.throws(() => {
    for (let at = 0; at < bytes.length; at += 3) parser.push(bytes.subarray(at, at + 3));
    parser.finish();
  }, /^DataFormatError: f\.txt:3: feature index 2 after 3/);
});

test('readLibsvmFile hashes the uncompressed text and reads .bz2 files to the same data', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dcomp-libsvm-'));
  try {
    const plainPath = join(dir, 'tiny.txt');
    await writeFile(plainPath, '1 1:1\n-1 2:2\n');
    const plain = await readLibsvmFile(plainPath);
    // sha256 of "1 1:1\n-1 2:2\n" computed independently with sha256sum
    assert.equal(plain.sha256, '2b56ed4eeec28cafe825cba88d6c72478c38b1a90ea4f8e9713eaa18dc5ebd18');
    assert.equal(plain.textBytes, 13);
    assert.equal(plain.source, plainPath);

    const embedded = join(embeddedDatasetDir(), 'mushrooms.bz2');
    const fromBz2 = await readLibsvmFile(embedded);
    assert.equal(fromBz2.X.rows, 8124);
    assert.equal(fromBz2.sha256, 'f39a4eb628dc61a7d43760815b061c9e497aa728ce1ad8bde57a09ef6043b538');

    const truncated = join(dir, 'broken.bz2');
    await writeFile(truncated, (await readFile(embedded)).subarray(0, 4000));
    await assert.rejects(readLibsvmFile(truncated), (err: unknown) => err instanceof DcompError && /broken\.bz2: not a valid bzip2 file/.test(err.message));

    await assert.rejects(readLibsvmFile(join(dir, 'missing')), /cannot read .*missing: no such file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
