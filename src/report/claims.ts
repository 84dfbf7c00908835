/**
 * Claims as data: a paper's statement ("the importance compressors beat Rand-k per iteration at equal
 * k") written as a comparison that is computed from a results table, never by hand. Pure: a table and
 * claims in, verdicts out; the text and markdown renderings are pure too.
 *
 * A claim compares a metric between two groups of runs (or a group and a constant), both read at a
 * budget, each group reduced to one figure by an aggregate, under a relation:
 *
 *   aggregate(metric of the runs of `a` at the budget)  RELATION  aggregate(metric of the runs of `b` …)
 *
 * Reading at a budget (documented in docs/reproductions.md): the metric at the **last logged row whose
 * budget column is ≤ the budget** — what the run had achieved having spent at most that much, with no
 * interpolation (a value the run never logged is never made up). So log densely enough for the budget
 * axis. Special budgets: `end` (every run's last row) and `common` (per setting, the largest budget that
 * every completed run of both groups reached, i.e. the smallest of their final budget values), and
 * `reach` (the first logged row where another metric reached a target — ‖∇f‖² ≤ ε, or accuracy ≥ a
 * — so that `metric: bits_up_per_worker` reads "the bits needed to reach ε"; a run that never reached
 * it counts as the worst value, +∞).
 * A run whose first row is already past the budget, or that completed without reaching it, is left out
 * of its group (and said so). A diverged run that stopped before the budget counts as the worst possible
 * value (+∞, or −∞ for accuracies); so does a `nan` at the row read. An errored run is left out.
 *
 * With `per: [k, dataset]`, runs are split into settings by those columns and the claim is evaluated in
 * each setting present on both sides; the claim holds when it holds in every setting, does not hold when
 * it fails in at least one, and cannot be evaluated otherwise (every reason is kept).
 */
import { parseNumberCell, type ResultTable } from './read-csv.js';

export const CLAIM_METRICS = ['grad_norm_sq', 'loss', 'loss_gap', 'train_acc', 'test_acc', 'time_ms', 'bits_up_per_worker', 'bits_up_total', 'bits_down', 'epoch'] as const;
export type ClaimMetric = (typeof CLAIM_METRICS)[number];
export const BUDGET_COLUMNS = ['iteration', 'epoch', 'bits_up_per_worker', 'bits_up_total', 'time_ms'] as const;
export type BudgetColumn = (typeof BUDGET_COLUMNS)[number];
export const AGGREGATES = ['best', 'worst', 'min', 'median', 'max'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** Metrics where larger is better (best = max); for the others smaller is better. */
const HIGHER_IS_BETTER: ReadonlySet<string> = new Set(['train_acc', 'test_acc']);

export type Budget =
  | { readonly kind: 'end' }
  | { readonly kind: 'value'; readonly column: BudgetColumn; readonly value: number }
  | { readonly kind: 'common'; readonly column: BudgetColumn }
  /** The first logged row where a metric reached a target (≤, or ≥ for accuracies): "bits to reach ε". */
  | { readonly kind: 'reach'; readonly column: ClaimMetric; readonly value: number };

export type RelationOp = '<' | '<=' | '>' | '>=' | 'within';

/** `a op factor·b`, or for `within`: 1/factor ≤ a/b ≤ factor. */
export interface Relation {
  readonly op: RelationOp;
  readonly factor: number;
  /** As written, for tables. */
  readonly text: string;
}

/** Column filters: a run belongs to the group when each column's cell is one of the values. */
export type Filters = ReadonlyArray<readonly [string, readonly string[]]>;

export interface Group {
  readonly where: Filters;
  /** Overrides the claim's budget / aggregate for this side (e.g. the same runs at iteration 0). */
  readonly at?: Budget;
  readonly aggregate?: Aggregate;
}

export interface Claim {
  readonly id: string;
  /** The paper's statement in words (shown in reports). */
  readonly statement?: string;
  readonly metric: ClaimMetric;
  readonly at: Budget;
  readonly aggregate: Aggregate;
  readonly a: Group;
  readonly b: Group | { readonly constant: number };
  readonly per: readonly string[];
  readonly relation: Relation;
}

export type Verdict = 'holds' | 'does not hold' | 'cannot be evaluated';

/** One side's figure in one setting. */
export interface Figure {
  readonly value: number;
  /** Where it was read, e.g. "iteration 500" or "bits_up_per_worker ≤ 1.2e6". */
  readonly where: string;
  /** The runs that entered the aggregate. */
  readonly runs: number;
  /** For min/max/best/worst: the run that gave the figure and its short label. */
  readonly runId?: string;
  readonly label?: string;
  /** Runs left out, with why. */
  readonly notes: readonly string[];
}

export interface SettingVerdict {
  /** The `per` columns' values ([] without `per`). */
  readonly setting: ReadonlyArray<readonly [string, string]>;
  readonly a?: Figure;
  readonly b?: Figure;
  readonly verdict: Verdict;
  readonly reason?: string;
}

export interface ClaimVerdict {
  readonly claim: Claim;
  readonly verdict: Verdict;
  readonly settings: readonly SettingVerdict[];
  /** Why it cannot be evaluated at all (no setting could be formed). */
  readonly reason?: string;
}

type Row = Readonly<Record<string, string>>;

interface Run {
  readonly id: string;
  readonly rows: readonly Row[];
  readonly first: Row;
  readonly status: string;
}

/** Columns that describe a run, used for labels and for finding where a failing claim holds. */
export const SETTING_COLUMNS = ['dataset', 'problem', 'method', 'compressor', 'k', 'workers', 'split', 'seed', 'l2', 'batch', 'x0', 'backend', 'device', 'precision'];

/** A row's value of a filter key: its column, else an entry of the `params` column (`name=value;…`). */
export function cellOf(row: Row, key: string): string | undefined {
  if (key in row) return row[key];
  const params = row.params;
  if (params === undefined || params === '') return undefined;
  for (const pair of params.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq) === key) return pair.slice(eq + 1);
  }
  return undefined;
}

/** Text equality, or numeric equality when both read as numbers ("1e-3" matches "0.001"). */
function sameCell(cell: string | undefined, value: string): boolean {
  if (cell === undefined) return false;
  if (cell === value) return true;
  if (cell === '' || value === '') return false;
  const x = Number(cell);
  const y = Number(value);
  return Number.isFinite(x) && Number.isFinite(y) && x === y;
}

export function matchesFilters(row: Row, where: Filters): boolean {
  return where.every(([key, values]) => values.some((v) => sameCell(cellOf(row, key), v)));
}

function runsOf(table: ResultTable): Run[] {
  const byId = new Map<string, Row[]>();
  for (const row of table.rows) {
    const list = byId.get(row.run_id);
    if (list) list.push(row);
    else byId.set(row.run_id, [row]);
  }
  return [...byId.entries()].map(([id, rows]) => {
    const sorted = [...rows].sort((p, q) => Number(p.iteration) - Number(q.iteration));
    return { id, rows: sorted, first: sorted[0], status: sorted[sorted.length - 1].status ?? 'ok' };
  });
}

export function formatValue(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return '∞';
  if (x === -Infinity) return '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(3)));
  return x.toExponential(2);
}

function describeFilters(where: Filters): string {
  if (where.length === 0) return 'all runs';
  return where.map(([k, v]) => `${k}=${v.join('|')}`).join(' ');
}

export function describeBudget(budget: Budget): string {
  if (budget.kind === 'end') return 'the end of each run';
  if (budget.kind === 'common') return `the common ${budget.column} budget`;
  if (budget.kind === 'reach') return `the first row with ${budget.column} ${HIGHER_IS_BETTER.has(budget.column) ? '≥' : '≤'} ${formatValue(budget.value)}`;
  return `${budget.column} ${formatValue(budget.value)}`;
}

/** Short label of a run from its configuration columns (only those given). */
function runLabel(run: Run, columns: readonly string[]): string {
  return columns
    .map((c) => [c, cellOf(run.first, c) ?? ''] as const)
    .filter(([, v]) => v !== '')
    .map(([c, v]) => (c === 'method' || c === 'compressor' || c === 'dataset' ? v : `${c}=${v}`))
    .join(' ');
}

function worstValue(metric: string): number {
  return HIGHER_IS_BETTER.has(metric) ? -Infinity : Infinity;
}

type Reading = { ok: true; value: number; budgetValue?: number } | { ok: false; note: string };

/** The metric of one run at a budget (see the header for the rule). */
function readRun(run: Run, metric: string, budget: Budget, commonValue: number | undefined): Reading {
  if (run.status === 'errored') return { ok: false, note: `${run.id} errored` };
  const last = run.rows[run.rows.length - 1];
  let row: Row | undefined;
  if (budget.kind === 'end') row = last;
  else if (budget.kind === 'reach') {
    const higher = HIGHER_IS_BETTER.has(budget.column);
    row = run.rows.find((r) => {
      const v = parseNumberCell(r[budget.column]);
      return v !== undefined && (higher ? v >= budget.value : v <= budget.value);
    });
    if (row === undefined) return { ok: true, value: worstValue(metric) };
  } else {
    const limit = budget.kind === 'common' ? commonValue : budget.value;
    if (limit === undefined) return { ok: false, note: `${run.id}: no common budget` };
    const column = budget.column;
    for (const r of run.rows) {
      const v = parseNumberCell(r[column]);
      if (v !== undefined && v <= limit) row = r;
    }
    if (row === undefined) return { ok: false, note: `${run.id} starts past ${column} ${formatValue(limit)}` };
    const lastBudget = parseNumberCell(last[column]) ?? NaN;
    if (row === last && lastBudget < limit) {
      if (run.status === 'diverged') return { ok: true, value: worstValue(metric) };
      if (budget.kind === 'value') return { ok: false, note: `${run.id} ends at ${column} ${formatValue(lastBudget)}, before the budget` };
    }
  }
  if (row === last && run.status === 'diverged' && budget.kind !== 'reach') return { ok: true, value: worstValue(metric) };
  const cell = row[metric];
  const value = parseNumberCell(cell);
  if (value === undefined) return { ok: false, note: `${run.id} has no ${metric} value` };
  return { ok: true, value: Number.isNaN(value) ? worstValue(metric) : value };
}

function aggregateOf(values: ReadonlyArray<{ value: number; run: Run }>, aggregate: Aggregate, metric: string): { value: number; run?: Run } {
  const higher = HIGHER_IS_BETTER.has(metric);
  const kind = aggregate === 'best' ? (higher ? 'max' : 'min') : aggregate === 'worst' ? (higher ? 'min' : 'max') : aggregate;
  if (kind === 'median') {
    const sorted = values.map((v) => v.value).sort((p, q) => p - q);
    const m = sorted.length >> 1;
    return { value: sorted.length % 2 === 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2, run: values.length === 1 ? values[0].run : undefined };
  }
  let pick = values[0];
  for (const v of values) if (kind === 'min' ? v.value < pick.value : v.value > pick.value) pick = v;
  return { value: pick.value, run: pick.run };
}

/** The budget every completed run of the setting reached: the smallest final budget value. */
function commonBudget(runs: readonly Run[], column: string): number | undefined {
  let common = Infinity;
  for (const run of runs) {
    if (run.status !== 'ok') continue;
    const v = parseNumberCell(run.rows[run.rows.length - 1][column]);
    if (v !== undefined && Number.isFinite(v)) common = Math.min(common, v);
  }
  return Number.isFinite(common) ? common : undefined;
}

function budgetWhere(budget: Budget, common: number | undefined): string {
  if (budget.kind === 'end') return 'end';
  if (budget.kind === 'reach') return `first ${budget.column} ${HIGHER_IS_BETTER.has(budget.column) ? '≥' : '≤'} ${formatValue(budget.value)}`;
  if (budget.kind === 'common') return common === undefined ? `common ${budget.column}` : `${budget.column} ≤ ${formatValue(common)}`;
  return `${budget.column} ≤ ${formatValue(budget.value)}`;
}

function figureOf(runs: readonly Run[], metric: string, budget: Budget, aggregate: Aggregate, common: number | undefined, labelColumns: readonly string[]): Figure | string {
  const values: Array<{ value: number; run: Run }> = [];
  const notes: string[] = [];
  for (const run of runs) {
    const r = readRun(run, metric, budget, common);
    if (r.ok) values.push({ value: r.value, run });
    else notes.push(r.note);
  }
  if (values.length === 0) return notes.length > 0 ? `no run could be read (${notes.slice(0, 3).join('; ')}${notes.length > 3 ? '; …' : ''})` : 'no runs';
  const agg = aggregateOf(values, aggregate, metric);
  let label = agg.run ? runLabel(agg.run, labelColumns) : `${aggregate} of ${values.length}`;
  // runs the label cannot tell apart (options only in params, e.g. ranks): add the run id
  if (agg.run && runs.filter((r) => runLabel(r, labelColumns) === label).length > 1) label = `${label} ${agg.run.id}`.trim();
  return {
    value: agg.value,
    where: budgetWhere(budget, common),
    runs: values.length,
    runId: agg.run?.id,
    label,
    notes,
  };
}

export function relationHolds(a: number, b: number, relation: Relation): boolean {
  const { op, factor } = relation;
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  if (op === 'within') {
    if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
    if (a === b) return true;
    if (!(a > 0 && b > 0)) return false;
    const ratio = a / b;
    return ratio <= factor && ratio >= 1 / factor;
  }
  const rhs = factor === 1 ? b : factor * b;
  switch (op) {
    case '<':
      return a < rhs;
    case '<=':
      return a <= rhs;
    case '>':
      return a > rhs;
    case '>=':
      return a >= rhs;
  }
}

function settingKey(run: Run, per: readonly string[]): string {
  return JSON.stringify(per.map((c) => cellOf(run.first, c) ?? ''));
}

/** Columns to label a run by: the setting columns whose values differ among the given runs. */
function varyingColumns(runs: readonly Run[], exclude: readonly string[] = []): string[] {
  return SETTING_COLUMNS.filter((c) => !exclude.includes(c) && new Set(runs.map((r) => cellOf(r.first, c) ?? '')).size > 1);
}

interface Sides {
  readonly a: readonly Run[];
  readonly b: readonly Run[] | undefined;
}

function evaluateSetting(claim: Claim, setting: ReadonlyArray<readonly [string, string]>, sides: Sides): SettingVerdict {
  const all = [...sides.a, ...(sides.b ?? [])];
  // the setting already names the per columns; a label is needed only for what else varies
  const labelColumns = varyingColumns(all, claim.per);
  const budgetA = claim.a.at ?? claim.at;
  const commonColumn = (b: Budget) => (b.kind === 'common' ? b.column : undefined);
  const commonFor = (b: Budget) => {
    const c = commonColumn(b);
    return c === undefined ? undefined : commonBudget(all, c);
  };
  if (sides.a.length === 0) return { setting, verdict: 'cannot be evaluated', reason: `no runs match a (${describeFilters(claim.a.where)})` };
  const a = figureOf(sides.a, claim.metric, budgetA, claim.a.aggregate ?? claim.aggregate, commonFor(budgetA), labelColumns);
  let b: Figure | string;
  if ('constant' in claim.b) {
    b = { value: claim.b.constant, where: 'constant', runs: 0, label: 'constant', notes: [] };
  } else {
    if (!sides.b || sides.b.length === 0) return { setting, a: typeof a === 'string' ? undefined : a, verdict: 'cannot be evaluated', reason: `no runs match b (${describeFilters(claim.b.where)})` };
    const budgetB = claim.b.at ?? claim.at;
    b = figureOf(sides.b, claim.metric, budgetB, claim.b.aggregate ?? claim.aggregate, commonFor(budgetB), labelColumns);
  }
  if (typeof a === 'string' || typeof b === 'string') {
    return {
      setting,
      a: typeof a === 'string' ? undefined : a,
      b: typeof b === 'string' ? undefined : b,
      verdict: 'cannot be evaluated',
      reason: typeof a === 'string' ? `a: ${a}` : `b: ${b as string}`,
    };
  }
  return { setting, a, b, verdict: relationHolds(a.value, b.value, claim.relation) ? 'holds' : 'does not hold' };
}

function combine(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'cannot be evaluated';
  if (verdicts.includes('does not hold')) return 'does not hold';
  if (verdicts.every((v) => v === 'holds')) return 'holds';
  return 'cannot be evaluated';
}

function missingColumns(claim: Claim, table: ResultTable): string[] {
  const first = table.rows[0] ?? {};
  const keys = [...claim.per, ...claim.a.where.map(([k]) => k), ...('constant' in claim.b ? [] : claim.b.where.map(([k]) => k))];
  const missing = keys.filter((k) => !table.columns.includes(k) && cellOf(first, k) === undefined);
  const needed = [claim.metric, ...[claim.at, claim.a.at, 'constant' in claim.b ? undefined : claim.b.at].flatMap((b) => (b && b.kind !== 'end' ? [b.column] : []))];
  return [...new Set([...missing, ...needed.filter((c) => !table.columns.includes(c))])];
}

/** Evaluates one claim on the runs of a table (restricted to `runs` when given). */
function evaluateOn(claim: Claim, runs: readonly Run[], table: ResultTable): ClaimVerdict {
  const missing = missingColumns(claim, table);
  if (missing.length > 0) return { claim, verdict: 'cannot be evaluated', settings: [], reason: `${table.file} has no column ${missing.map((c) => `"${c}"`).join(', ')}` };
  const a = runs.filter((r) => matchesFilters(r.first, claim.a.where));
  const b = 'constant' in claim.b ? undefined : runs.filter((r) => matchesFilters(r.first, (claim.b as Group).where));
  if (a.length === 0) return { claim, verdict: 'cannot be evaluated', settings: [], reason: `no runs match a (${describeFilters(claim.a.where)})` };
  if (b !== undefined && b.length === 0) return { claim, verdict: 'cannot be evaluated', settings: [], reason: `no runs match b (${describeFilters((claim.b as Group).where)})` };
  const keys: string[] = [];
  const bySettingA = new Map<string, Run[]>();
  const bySettingB = new Map<string, Run[]>();
  for (const [runsOfSide, map] of [[a, bySettingA], [b ?? [], bySettingB]] as const) {
    for (const run of runsOfSide) {
      const key = settingKey(run, claim.per);
      if (!keys.includes(key)) keys.push(key);
      const list = map.get(key);
      if (list) list.push(run);
      else map.set(key, [run]);
    }
  }
  const settings = keys.map((key) => {
    const values = JSON.parse(key) as string[];
    const setting = claim.per.map((c, i) => [c, values[i]] as const);
    return evaluateSetting(claim, setting, { a: bySettingA.get(key) ?? [], b: b === undefined ? undefined : (bySettingB.get(key) ?? []) });
  });
  return { claim, verdict: combine(settings.map((s) => s.verdict)), settings };
}

export function evaluateClaim(claim: Claim, table: ResultTable): ClaimVerdict {
  return evaluateOn(claim, runsOf(table), table);
}

export function evaluateClaims(claims: readonly Claim[], table: ResultTable): ClaimVerdict[] {
  const runs = runsOf(table);
  return claims.map((c) => evaluateOn(c, runs, table));
}

// ---------------------------------------------------------------------------------------------------
// Where a claim that does not hold does hold: split the failing settings by one configuration column at
// a time and evaluate the claim on each part.

export interface Refinement {
  /** The setting of the failing claim that was split ([] without `per`). */
  readonly setting: ReadonlyArray<readonly [string, string]>;
  readonly column: string;
  readonly holds: readonly string[];
  readonly fails: readonly string[];
}

/**
 * For each setting where the claim does not hold, and each configuration column that varies among that
 * setting's runs: the values of the column for which the claim, restricted to them, holds and does not.
 * A side with no run of a value keeps all its runs (so splitting `a: {compressor: [imp-a, imp-b]}` by
 * compressor compares each of imp-a, imp-b with the whole of b).
 */
export function refineFailure(verdict: ClaimVerdict, table: ResultTable): Refinement[] {
  const claim = verdict.claim;
  const runs = runsOf(table);
  const out: Refinement[] = [];
  for (const s of verdict.settings) {
    if (s.verdict !== 'does not hold') continue;
    const inSetting = runs.filter((r) => s.setting.every(([c, v]) => (cellOf(r.first, c) ?? '') === v));
    const sideA = inSetting.filter((r) => matchesFilters(r.first, claim.a.where));
    const sideB = 'constant' in claim.b ? [] : inSetting.filter((r) => matchesFilters(r.first, (claim.b as Group).where));
    const both = [...sideA, ...sideB];
    for (const column of varyingColumns(both, claim.per)) {
      const values = [...new Set(both.map((r) => cellOf(r.first, column) ?? ''))];
      const holds: string[] = [];
      const fails: string[] = [];
      for (const v of values) {
        const pick = (side: readonly Run[]) => {
          const part = side.filter((r) => (cellOf(r.first, column) ?? '') === v);
          return part.length > 0 ? part : side;
        };
        const a = pick(sideA);
        const b = 'constant' in claim.b ? undefined : pick(sideB);
        if (a.length === sideA.length && (b === undefined || b.length === sideB.length)) continue; // not a restriction
        const r = evaluateSetting(claim, s.setting, { a, b });
        if (r.verdict === 'holds') holds.push(v);
        else if (r.verdict === 'does not hold') fails.push(v);
      }
      if (holds.length + fails.length > 1) out.push({ setting: s.setting, column, holds, fails });
    }
  }
  return out;
}

function settingText(setting: ReadonlyArray<readonly [string, string]>): string {
  return setting.map(([c, v]) => (c === 'dataset' || c === 'method' || c === 'compressor' ? v : `${c}=${v}`)).join(', ');
}

function list(values: readonly string[], column: string): string {
  const shown = values.map((v) => (column === 'dataset' || column === 'method' || column === 'compressor' ? v : `${column}=${v}`));
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

function figurePair(s: SettingVerdict, relation: Relation): string {
  if (!s.a || !s.b) return '';
  return `${formatValue(s.a.value)} vs ${formatValue(s.b.value)}, needed ${relation.text}`;
}

/**
 * Plain sentences for a claim that does not hold, from the data: the settings where it holds and where
 * not (with both figures), and, within the failing settings, the values of a configuration column for
 * which it would hold.
 */
export function explainFailure(verdict: ClaimVerdict, table: ResultTable): string {
  const claim = verdict.claim;
  const name = claim.statement ?? claim.id;
  if (verdict.verdict !== 'does not hold') return '';
  const held = verdict.settings.filter((s) => s.verdict === 'holds');
  const failed = verdict.settings.filter((s) => s.verdict === 'does not hold');
  const parts: string[] = [];
  if (claim.per.length === 0) {
    parts.push(`"${name}" does not hold: ${figurePair(failed[0], claim.relation)}.`);
  } else {
    const f = failed.map((s) => `${settingText(s.setting)} (${figurePair(s, claim.relation)})`).join('; ');
    if (held.length === 0) parts.push(`"${name}" holds in none of the ${verdict.settings.length} settings: ${f}.`);
    else parts.push(`"${name}" holds for ${held.map((s) => settingText(s.setting)).join('; ')}, and not for ${f}.`);
  }
  for (const r of refineFailure(verdict, table)) {
    const where = r.setting.length > 0 ? `At ${settingText(r.setting)}, it` : 'It';
    if (r.holds.length === 0) parts.push(`${where} holds for none of ${list(r.fails, r.column)} taken one at a time.`);
    else if (r.fails.length === 0) parts.push(`${where} holds for each of ${list(r.holds, r.column)} taken one at a time, but not for the group.`);
    else parts.push(`${where} holds for ${list(r.holds, r.column)}, not for ${list(r.fails, r.column)}.`);
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------------
// Renderings.

function figureText(f: Figure | undefined): string {
  if (!f) return '—';
  return f.label && f.label !== 'constant' ? `${formatValue(f.value)} (${f.label})` : formatValue(f.value);
}


/** Where the figures were read: one budget, or a's / b's when the sides differ. */
function readAt(s: SettingVerdict, claim: Claim): string {
  const a = s.a?.where ?? describeBudget(claim.a.at ?? claim.at);
  const b = 'constant' in claim.b ? a : (s.b?.where ?? describeBudget(claim.b.at ?? claim.at));
  return a === b ? a : `${a} / ${b}`;
}

interface TableRow {
  claim: string;
  setting: string;
  a: string;
  relation: string;
  b: string;
  at: string;
  verdict: string;
}

function tableRows(verdicts: readonly ClaimVerdict[]): TableRow[] {
  const rows: TableRow[] = [];
  for (const v of verdicts) {
    const c = v.claim;
    if (v.settings.length === 0) {
      rows.push({ claim: c.id, setting: '', a: '—', relation: c.relation.text, b: '—', at: describeBudget(c.at), verdict: `${v.verdict}: ${v.reason ?? ''}` });
      continue;
    }
    v.settings.forEach((s, i) => {
      rows.push({
        claim: i === 0 ? c.id : '',
        setting: settingText(s.setting),
        a: figureText(s.a),
        relation: c.relation.text,
        b: figureText(s.b),
        at: readAt(s, c),
        verdict: s.verdict + (s.reason ? `: ${s.reason}` : ''),
      });
    });
    if (v.settings.length > 1) rows.push({ claim: '', setting: '(all)', a: '', relation: '', b: '', at: '', verdict: v.verdict });
  }
  return rows;
}

const HEAD: TableRow = { claim: 'claim', setting: 'setting', a: 'a', relation: 'rel', b: 'b', at: `read at`, verdict: 'verdict' };

/** The verdict table as aligned text (for the terminal). */
export function formatVerdictTable(verdicts: readonly ClaimVerdict[]): string {
  if (verdicts.length === 0) return 'claims: none declared\n';
  const rows = [HEAD, ...tableRows(verdicts)];
  const keys = Object.keys(HEAD) as Array<keyof TableRow>;
  const widths = keys.map((k) => Math.max(...rows.map((r) => r[k].length)));
  const lines = rows.map((r) => keys.map((k, j) => (j === keys.length - 1 ? r[k] : r[k].padEnd(widths[j]))).join('  ').trimEnd());
  const count = (what: Verdict) => verdicts.filter((v) => v.verdict === what).length;
  lines.push(`claims: ${count('holds')} hold, ${count('does not hold')} do not hold, ${count('cannot be evaluated')} cannot be evaluated (of ${verdicts.length})`);
  return lines.join('\n') + '\n';
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The verdict table in markdown, one line per claim statement first. */
export function verdictMarkdown(verdicts: readonly ClaimVerdict[]): string {
  const lines = ['| claim | setting | a | relation | b | read at | verdict |', '|---|---|---|---|---|---|---|'];
  for (const r of tableRows(verdicts)) {
    const verdict = r.verdict.startsWith('holds') ? `**${r.verdict}**` : r.verdict.startsWith('does not hold') ? `**${r.verdict}**` : r.verdict;
    lines.push(`| ${[r.claim ? `\`${r.claim}\`` : '', r.setting, r.a, r.relation, r.b, r.at, verdict].map(mdCell).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** What each claim compares, in words (for the report's legend of the table). */
export function describeClaim(claim: Claim): string {
  const side = (g: Group | { constant: number }) =>
    'constant' in g ? formatValue(g.constant) : `${g.aggregate ?? claim.aggregate} ${claim.metric} of ${describeFilters(g.where)}${g.at ? ` at ${describeBudget(g.at)}` : ''}`;
  const per = claim.per.length > 0 ? `, for each ${claim.per.join(' × ')}` : '';
  const ownBudgets = claim.a.at !== undefined && ('constant' in claim.b || claim.b.at !== undefined);
  return `${side(claim.a)} ${claim.relation.text} ${side(claim.b)}${ownBudgets ? '' : `, read at ${describeBudget(claim.at)}`}${per}`;
}

/** The table, then one paragraph per claim that does not hold. */
export function renderVerdicts(verdicts: readonly ClaimVerdict[], table: ResultTable, format: 'text' | 'markdown'): string {
  const sentences = verdicts.filter((v) => v.verdict === 'does not hold').map((v) => explainFailure(v, table));
  const body = format === 'markdown' ? verdictMarkdown(verdicts) : formatVerdictTable(verdicts);
  return body + (sentences.length > 0 ? '\n' + sentences.join('\n\n') + '\n' : '');
}
