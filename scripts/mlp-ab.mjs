// A/B timing of the mlp kernel in one process: each root is a built checkout (its dist/); the gradient (with
// the loss) and the loss alone, alternated between roots, median of >= 15 pairs of calls, and whether every
// root gives the same bits.  node scripts/mlp-ab.mjs ROOT[,ROOT...] [datasets] [hidden;hidden...]
// e.g. node scripts/mlp-ab.mjs /tmp/before,. mushrooms,a9a "32;64,32"   (datasets from DCOMP_DATA_DIR or ../shared/datasets)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
const dataDir = process.env.DCOMP_DATA_DIR ?? resolve('..', 'shared', 'datasets');
const roots = process.argv[2].split(',');
const names = (process.argv[3] ?? 'mushrooms,a9a,w8a').split(',');
const hiddens = (process.argv[4] ?? '32;64,32').split(';');
const mods = [];
for (const r of roots) mods.push(await import(resolve(r, 'dist/src/index.js')));
function time(f, minMs = 400) {
  for (let i = 0; i < 5; i++) f();
  const s = []; const t0 = Date.now();
  while (s.length < 15 || Date.now() - t0 < minMs) { const t = process.hrtime.bigint(); f(); f(); s.push(Number(process.hrtime.bigint() - t) / 2e3); }
  s.sort((a, b) => a - b); return s[Math.floor(s.length / 2)];
}
for (const name of names) {
  const bytes = readFileSync(join(dataDir, name));
  for (const h of hiddens) {
    const g = [], l = [], outs = [];
    const probs = mods.map((m) => {
      const data = m.parseLibsvm(bytes, { file: name });
      return m.problemSpec('mlp').create(data, { values: { l2: 0, hidden: h.split(',').map(Number) }, shards: m.splitShards(data, 1, 'contiguous') });
    });
    for (let rep = 0; rep < 2; rep++) probs.forEach((p, i) => {
      const x = new Float64Array(p.d); for (let j = 0; j < p.d; j++) x[j] = 0.1 * Math.sin(j + 1);
      const gr = new Float64Array(p.d);
      (g[i] ??= []).push(time(() => p.gradient(x, gr)).toFixed(0));
      (l[i] ??= []).push(time(() => p.loss(x)).toFixed(0));
      const loss = p.gradient(x, gr); outs[i] = Buffer.from(Float64Array.from([...gr, loss, p.loss(x)]).buffer).toString('hex');
    });
    const same = outs.every((o) => o === outs[0]);
    console.log(name, h, 'grad', g.map((c) => c.join('/')).join(' vs '), ' loss', l.map((c) => c.join('/')).join(' vs '), same ? 'same bits' : 'DIFFERENT BITS');
  }
}
