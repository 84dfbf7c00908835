/**
 * The `claims:` key of an experiment file (docs/reproductions.md): validated with zod, every problem
 * reported with the file's key path (`claims[2].relation: …`) and what is accepted. Pure: a parsed YAML
 * value in, claims (src/report/claims.ts) out.
 */
import { z } from 'zod';
import {
  AGGREGATES, BUDGET_COLUMNS, CLAIM_METRICS, type Aggregate, type Budget, type BudgetColumn, type Claim, type ClaimMetric, type Group, type Relation,
  type RelationOp,
} from '../report/claims.js';

export type ReportProblem = (path: string, message: string) => void;

function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'nothing';
  return JSON.stringify(v);
}

const RELATION_ACCEPTS = 'a relation: "<", "<=", ">", ">=" optionally with a factor ("<= x1.1", "< x0.5"), or "within xF" / "within factor F" (F ≥ 1)';

/** Parses a relation as written in a claim; undefined when not accepted. */
export function parseRelation(text: string): Relation | undefined {
  const t = text.trim().replace(/≤/g, '<=').replace(/≥/g, '>=').replace(/×/g, 'x');
  const num = '([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)';
  const within = new RegExp(`^within\\s+(?:factor\\s+|x\\s*)?${num}$`).exec(t);
  if (within) {
    const f = Number(within[1]);
    return f >= 1 && Number.isFinite(f) ? { op: 'within', factor: f, text: `within ×${within[1]}` } : undefined;
  }
  const m = new RegExp(`^(<=|>=|<|>)\\s*(?:[x*]\\s*${num})?$`).exec(t);
  if (!m) return undefined;
  const factor = m[2] === undefined ? 1 : Number(m[2]);
  if (!(factor > 0) || !Number.isFinite(factor)) return undefined;
  return { op: m[1] as RelationOp, factor, text: m[2] === undefined ? m[1] : `${m[1]} ×${m[2]}` };
}

const filterValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

const BUDGET_ACCEPTS = `"end", a mapping of one budget column (${BUDGET_COLUMNS.join(', ')}) to a number ≥ 0 or "common", or {reach: {METRIC: target}}`;

function parseBudget(raw: unknown, path: string, problem: ReportProblem): Budget | undefined {
  if (raw === 'end') return { kind: 'end' };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problem(path, `expected ${BUDGET_ACCEPTS}, got ${show(raw)}`);
    return undefined;
  }
  const entries = Object.entries(raw);
  if (entries.length !== 1) {
    problem(path, `expected exactly one budget column (${BUDGET_COLUMNS.join(', ')}), got ${entries.length === 0 ? 'none' : entries.map(([k]) => k).join(', ')}`);
    return undefined;
  }
  const [column, value] = entries[0];
  if (column === 'reach') {
    const target = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
    if (target.length !== 1 || !(CLAIM_METRICS as readonly string[]).includes(target[0][0]) || typeof target[0][1] !== 'number' || !Number.isFinite(target[0][1])) {
      problem(`${path}.reach`, `expected one metric and its target, e.g. {grad_norm_sq: 1e-8} (metrics: ${CLAIM_METRICS.join(', ')}), got ${show(value)}`);
      return undefined;
    }
    return { kind: 'reach', column: target[0][0] as ClaimMetric, value: target[0][1] as number };
  }
  if (!(BUDGET_COLUMNS as readonly string[]).includes(column)) {
    problem(`${path}.${column}`, `unknown budget column; accepted: ${BUDGET_COLUMNS.join(', ')} and reach`);
    return undefined;
  }
  if (value === 'common') return { kind: 'common', column: column as BudgetColumn };
  const v = z.number().min(0).refine(Number.isFinite).safeParse(value);
  if (!v.success) {
    problem(`${path}.${column}`, `expected a number ≥ 0 or "common", got ${show(value)}`);
    return undefined;
  }
  return { kind: 'value', column: column as BudgetColumn, value: v.data };
}

function oneOf<T extends string>(values: readonly T[], raw: unknown, path: string, problem: ReportProblem): T | undefined {
  if (typeof raw === 'string' && (values as readonly string[]).includes(raw)) return raw as T;
  problem(path, `expected one of ${values.join(', ')}, got ${show(raw)}`);
  return undefined;
}

const SIDE_KEYS = ['at', 'aggregate'];

function parseGroup(raw: unknown, path: string, problem: ReportProblem, filterKeys: ReadonlySet<string>): Group | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problem(path, `expected a mapping of column filters (e.g. {compressor: imp-a, k: 1}), optionally with at and aggregate${path.endsWith('.b') ? ', or a number' : ''}, got ${show(raw)}`);
    return undefined;
  }
  let ok = true;
  const where: Array<[string, string[]]> = [];
  let at: Budget | undefined;
  let aggregate: Aggregate | undefined;
  for (const [key, value] of Object.entries(raw)) {
    const p = `${path}.${key}`;
    if (key === 'at') {
      at = parseBudget(value, p, problem);
      ok &&= at !== undefined;
      continue;
    }
    if (key === 'aggregate') {
      aggregate = oneOf(AGGREGATES, value, p, problem);
      ok &&= aggregate !== undefined;
      continue;
    }
    if (!filterKeys.has(key)) {
      problem(p, `unknown column or option; accepted: ${SIDE_KEYS.join(', ')} and ${[...filterKeys].join(', ')}`);
      ok = false;
      continue;
    }
    const values = Array.isArray(value) ? value : [value];
    const r = z.array(filterValue).min(1).safeParse(values);
    if (!r.success) {
      problem(p, `expected a value or a non-empty list of values (strings, numbers, booleans), got ${show(value)}`);
      ok = false;
      continue;
    }
    where.push([key, r.data]);
  }
  return ok ? { where, at, aggregate } : undefined;
}

const CLAIM_KEYS = ['id', 'statement', 'metric', 'at', 'a', 'b', 'per', 'aggregate', 'relation'];

/**
 * Validates the `claims:` list. `filterKeys`: what a group may filter on (CSV configuration columns and
 * run options, the latter read from the `params` column). Reports every problem through `problem`.
 */
export function parseClaims(raw: unknown, problem: ReportProblem, filterKeys: readonly string[]): Claim[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problem('claims', `expected a list of claims (mappings with ${CLAIM_KEYS.join(', ')}), got ${show(raw)}`);
    return [];
  }
  const keys = new Set(filterKeys);
  const ids = new Set<string>();
  const claims: Claim[] = [];
  raw.forEach((entry, i) => {
    const path = `claims[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problem(path, `expected a mapping with ${CLAIM_KEYS.join(', ')}, got ${show(entry)}`);
      return;
    }
    const c = entry as Record<string, unknown>;
    let ok = true;
    for (const key of Object.keys(c)) {
      if (!CLAIM_KEYS.includes(key)) {
        problem(`${path}.${key}`, `unknown key; accepted: ${CLAIM_KEYS.join(', ')}`);
        ok = false;
      }
    }
    const id = typeof c.id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(c.id) ? c.id : undefined;
    if (id === undefined) {
      problem(`${path}.id`, `expected a name of letters, digits, ".", "_" or "-", got ${show(c.id)}`);
      ok = false;
    } else if (ids.has(id)) {
      problem(`${path}.id`, `"${id}" is already the id of an earlier claim`);
      ok = false;
    } else ids.add(id);
    if (c.statement !== undefined && typeof c.statement !== 'string') {
      problem(`${path}.statement`, `expected a string, got ${show(c.statement)}`);
      ok = false;
    }
    const metric = oneOf(CLAIM_METRICS, c.metric, `${path}.metric`, problem) as ClaimMetric | undefined;
    const at = c.at === undefined ? ({ kind: 'end' } as const) : parseBudget(c.at, `${path}.at`, problem);
    const aggregate = c.aggregate === undefined ? 'best' : oneOf(AGGREGATES, c.aggregate, `${path}.aggregate`, problem);
    const a = c.a === undefined ? (problem(`${path}.a`, 'required: the first group of runs, e.g. {compressor: imp-a}'), undefined) : parseGroup(c.a, `${path}.a`, problem, keys);
    let b: Claim['b'] | undefined;
    if (c.b === undefined) problem(`${path}.b`, 'required: the second group of runs (e.g. {compressor: randk}) or a number');
    else if (typeof c.b === 'number') {
      if (Number.isFinite(c.b)) b = { constant: c.b };
      else problem(`${path}.b`, `expected a finite number or a group, got ${show(c.b)}`);
    } else b = parseGroup(c.b, `${path}.b`, problem, keys);
    let per: string[] = [];
    if (c.per !== undefined) {
      const list = Array.isArray(c.per) ? c.per : [c.per];
      const bad = list.filter((k) => typeof k !== 'string' || !keys.has(k));
      if (bad.length > 0) {
        problem(`${path}.per`, `expected columns or options to compare within (e.g. [k, dataset]); unknown: ${bad.map(show).join(', ')}; accepted: ${[...keys].join(', ')}`);
        ok = false;
      } else per = list as string[];
    }
    let relation: Relation | undefined;
    if (typeof c.relation !== 'string' || (relation = parseRelation(c.relation)) === undefined) {
      problem(`${path}.relation`, `expected ${RELATION_ACCEPTS}, got ${show(c.relation)}`);
      ok = false;
    }
    if (!ok || !id || !metric || !at || !aggregate || !a || !b || !relation) return;
    claims.push({ id, statement: c.statement as string | undefined, metric, at, aggregate, a, b, per, relation });
  });
  return claims;
}

/** Configuration columns of a results CSV that claims may filter on (the rest are measurements). */
export function filterKeysFor(columns: readonly string[], optionKeys: Iterable<string>): string[] {
  const measured = new Set(['run_id', 'iteration', 'epoch', 'loss', 'loss_gap', 'grad_norm_sq', 'train_acc', 'test_acc', 'bits_up_per_worker', 'bits_up_total', 'bits_down', 'time_ms', 'status', 'params']);
  return [...new Set([...columns.filter((c) => !measured.has(c)), ...optionKeys])];
}
