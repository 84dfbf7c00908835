/** The rows' prefix plan (src/backends/row-prefix.ts), on hand-made rows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowPrefixPlan } from '../src/backends/row-prefix.js';
import type { CsrMatrix } from '../src/data/types.js';

test('the prefix plan: rows in lexicographic order, each lcp the entries shared with the row before, computed = Σ (length − lcp)', () => {
  // rows: [0 1 2], [0 1], [0 1 2] (a repeat), [3], [0 2]; values all 1
  const X: CsrMatrix = { rows: 5, cols: 4, rowPtr: Int32Array.from([0, 3, 5, 8, 9, 11]), colIdx: Int32Array.from([0, 1, 2, 0, 1, 0, 1, 2, 3, 0, 2]), values: new Float64Array(11).fill(1) };
  const plan = rowPrefixPlan(X, true);
  assert.ok(plan);
  assert.deepEqual([...plan.order], [1, 0, 2, 4, 3]); // [0 1] < [0 1 2] (row 0) = [0 1 2] (row 2) < [0 2] < [3]
  assert.deepEqual([...plan.lcp], [0, 2, 3, 1, 0]);
  assert.equal(plan.computed, 2 + 1 + 0 + 1 + 1);
  assert.equal(plan.maxLength, 3);
  // the same columns with other values share nothing past the first differing value
  const valued: CsrMatrix = { ...X, values: Float64Array.from([1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1]) };
  const p2 = rowPrefixPlan(valued, false);
  assert.ok(p2);
  assert.deepEqual([...p2.order], [0, 2, 1, 4, 3]); // [0:1 1:1 2:1] twice, then [0:1 1:2]
  assert.deepEqual([...p2.lcp], [0, 3, 1, 1, 0]);
});
