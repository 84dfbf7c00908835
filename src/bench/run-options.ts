/**
 * The run-level options of spec §6, declared once (the problem's, compressor's and method's own
 * options are declared by their specs). `dcomp run` flags, experiment-file keys, validation, help,
 * run ids and the CSV `params` column derive from these declarations and the specs' (see config.ts).
 */
import { choice, declare, flag, integer, real, text, type OptionDecl } from '../core/options.js';
import { ceilLog2 } from '../core/integer.js';
import { SPLIT_MODES } from '../data/types.js';
import { SHARD_SIZES } from '../data/split.js';
import { parseX0, X0_ACCEPTS } from '../data/x0.js';
import { COMPRESSORS } from '../compressors/registry.js';
import { METHODS } from '../methods/registry.js';
import { PROBLEMS } from '../problems/registry.js';
import { STEP_ACCEPTS, parseStepText } from '../methods/step.js';

export const GPU_MODES = ['auto', 'webgpu', 'gl', 'webasm', 'cpu'] as const;

const names = (m: ReadonlyMap<string, unknown>) => [...m.keys()];

/** Declared in the order `dcomp run --help` lists them. */
export const RUN_OPTIONS: readonly OptionDecl[] = [
  declare('dataset', text('a dataset name (mushrooms, a9a, w8a, phishing, a1a) or a LIBSVM file path'), {
    required: true, help: 'dataset name or LIBSVM file path', record: 'column', placeholder: 'name|path',
  }),
  declare('problem', choice(names(PROBLEMS)), { default: 'logreg', help: 'objective', record: 'column', placeholder: 'name' }),
  declare('method', choice(names(METHODS)), { required: true, help: 'optimization method', record: 'column', placeholder: 'name' }),
  declare('compressor', choice(names(COMPRESSORS)), {
    defaultText: 'identity; topk for topk-ssgd and gtopk', help: 'compressor', record: 'column', placeholder: 'name',
  }),
  declare('workers', integer(1), { default: 1, help: 'number of workers n', record: 'column', placeholder: 'n' }),
  declare('step', text(STEP_ACCEPTS, (s) => parseStepText(s) !== undefined), {
    default: 'theory', help: 'step size γ: a number, theory or theory*M (no theory step: a number is required)', record: 'column', placeholder: 'gamma',
  }),
  declare('iters', integer(0), { default: 100, help: 'iterations T', record: 'none', placeholder: 'T' }),
  declare('split', choice(SPLIT_MODES), { default: 'iid', help: 'row order before cutting into shards', record: 'column', placeholder: 'mode' }),
  declare('shard_sizes', choice(SHARD_SIZES), {
    default: 'balanced', help: 'shard sizes: balanced (differ by ≤ 1) or floor (⌊N/n⌋ each, remainder to the last)', record: 'params', placeholder: 'rule',
  }),
  declare('seed', integer(0, 2 ** 53 - 1), { default: 0, help: 'seed of every random choice', record: 'column', placeholder: 's' }),
  declare('log_every', integer(1), { default: 1, help: 'log every m iterations (and always 0 and the last)', record: 'none', placeholder: 'm' }),
  declare('batch', integer(1), { defaultText: 'full local gradients', help: 'minibatch rows per worker per iteration', record: 'column', placeholder: 'b' }),
  declare('float_bits', integer(1), { default: 32, help: 'bits per float on the wire (F)', record: 'params', placeholder: 'F' }),
  declare('index_bits', integer(0), {
    defaultText: '⌈log2 d⌉', derive: ({ d }) => ceilLog2(d), help: 'bits per index on the wire (I; 0 counts values only)', record: 'params', placeholder: 'I',
  }),
  declare('x0', text(X0_ACCEPTS, (s) => parseX0(s) !== undefined), {
    defaultText: 'zeros; init for problems with a seeded initialisation (mlp)', help: 'starting point: zeros, normal[:σ], file:PATH or init', record: 'column', placeholder: 'init',
  }),
  declare('features', integer(1), { defaultText: 'the largest index seen', help: 'fix the number of features (e.g. to align a test file)', record: 'params', placeholder: 'd' }),
  declare('test', text('a dataset name or a LIBSVM file path'), { help: 'test set for test_acc (not with holdout)', record: 'params', placeholder: 'name|path' }),
  declare('holdout', real({ min: 0, exclusive: true, max: 1, maxExclusive: true }), {
    help: 'hold out a share f of the rows (seeded) as the test set (not with test)', record: 'params', placeholder: 'f',
  }),
  declare('backend', choice(['cpu', 'gpu'] as const), { default: 'cpu', help: 'compute backend: cpu (float64) or gpu (gpu.js, float32)', record: 'column', placeholder: 'name' }),
  declare('gpu_mode', choice(GPU_MODES), { default: 'auto', help: 'gpu backend: which gpu.js kernels (auto: webgpu, then gl, then webasm)', record: 'none', placeholder: 'mode' }),
  declare('allow_software_gpu', flag(), { default: false, help: 'gpu backend: run on a software renderer (labelled software)', record: 'none' }),
];

export const RUN_OPTION_BY_NAME: ReadonlyMap<string, OptionDecl> = new Map(RUN_OPTIONS.map((d) => [d.name, d]));

/** Run-level options that apply only with another option's value (name → condition and what it needs). */
export const RUN_OPTION_CONDITIONS: Readonly<Record<string, { readonly when: (v: Readonly<Record<string, unknown>>) => boolean; readonly needs: string }>> = {
  gpu_mode: { when: (v) => v.backend === 'gpu', needs: 'backend gpu' },
  allow_software_gpu: { when: (v) => v.backend === 'gpu', needs: 'backend gpu' },
};
