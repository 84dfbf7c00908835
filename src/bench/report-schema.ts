/**
 * The `report:` key of an experiment file: what `dcomp report` puts on the page besides the claims —
 * the figures (each a metric against an axis, optionally for a subset of the runs) and, for the sparse
 * S-SGD methods, the `dcomp traffic` table. Validated here with messages naming the key path; pure.
 */
import { z } from 'zod';
import { SPARSE_SYNC_METHODS, type SparseSyncMethod } from '../methods/traffic.js';
import { X_COLUMNS, Y_COLUMNS } from '../report/plot.js';
import type { ReportProblem } from './claims-schema.js';

export interface FigureSpec {
  readonly x: string;
  readonly y: string;
  readonly logX: boolean;
  /** Log y; default by metric (grad_norm_sq, loss_gap). */
  readonly logY?: boolean;
  /** Keep the runs whose column (or params entry) is one of the values, for every column given. */
  readonly filter: ReadonlyArray<readonly [string, readonly string[]]>;
  readonly title?: string;
}

export interface TrafficSpec {
  readonly methods: readonly SparseSyncMethod[];
  readonly k: number;
  readonly d: number;
  readonly workers?: readonly number[];
}

export interface ReportSpec {
  readonly title?: string;
  /** Empty: one figure from the experiment's `plot:`. */
  readonly figures: readonly FigureSpec[];
  readonly traffic?: TrafficSpec;
}

function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : v === undefined ? 'nothing' : JSON.stringify(v);
}

const cell = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const figureSchema = z.strictObject({
  x: z.enum(X_COLUMNS),
  y: z.enum(Y_COLUMNS),
  log_x: z.boolean().optional(),
  log_y: z.boolean().optional(),
  filter: z.record(z.string(), z.union([cell, z.array(cell).min(1)])).optional(),
  title: z.string().optional(),
});
const int1 = z.number().int().min(1);
const trafficSchema = z.strictObject({
  methods: z.array(z.enum(SPARSE_SYNC_METHODS as [SparseSyncMethod, ...SparseSyncMethod[]])).min(1).optional(),
  k: int1,
  d: int1,
  workers: z.array(int1).min(1).optional(),
});
const reportSchema = z.strictObject({
  title: z.string().optional(),
  figures: z.array(figureSchema).optional(),
  traffic: trafficSchema.optional(),
});

/** zod's issues as `path: message` with the value it got. */
function reportIssues(error: z.ZodError, root: unknown, base: string, problem: ReportProblem): void {
  for (const issue of error.issues) {
    const path = base + issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    let got: unknown = root;
    for (const p of issue.path) got = got === undefined || got === null ? undefined : (got as Record<PropertyKey, unknown>)[p as PropertyKey];
    if (issue.code === 'unrecognized_keys') problem(path, `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`);
    else if (issue.code === 'invalid_value') problem(path, `expected one of ${issue.values.map(String).join(', ')}, got ${show(got)}`);
    else problem(path, `${issue.message}, got ${show(got)}`);
  }
}

export function parseReportSpec(raw: unknown, problem: ReportProblem): ReportSpec {
  if (raw === undefined) return { figures: [] };
  const r = reportSchema.safeParse(raw);
  if (!r.success) {
    reportIssues(r.error, raw, 'report', problem);
    return { figures: [] };
  }
  const v = r.data;
  if (v.traffic && v.traffic.k > v.traffic.d) problem('report.traffic.k', `must satisfy 1 ≤ k ≤ d = ${v.traffic.d}, got ${v.traffic.k}`);
  return {
    title: v.title,
    figures: (v.figures ?? []).map((f) => ({ x: f.x, y: f.y, logX: f.log_x ?? false, logY: f.log_y, filter: Object.entries(f.filter ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]] as const), title: f.title })),
    traffic: v.traffic && { methods: v.traffic.methods ?? SPARSE_SYNC_METHODS, k: v.traffic.k, d: v.traffic.d, workers: v.traffic.workers },
  };
}
