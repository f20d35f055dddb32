// Summarises a .cpuprofile: top N functions by self time (with file:line), and by total time.
// Usage: node bench/top-self.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 15);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const selfUs = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const label = (cf) => `${cf.functionName || '(anonymous)'} ${cf.url ? cf.url.replace(/^.*\/main\//, '') + ':' + (cf.lineNumber + 1) : ''}`.trim();
const self = new Map();
for (const [id, us] of selfUs) {
  const k = label(byId.get(id).callFrame);
  self.set(k, (self.get(k) ?? 0) + us);
}
// Inclusive time per function label (count each label once per sample stack).
const parent = new Map();
for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const incl = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const seen = new Set();
  for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
    const k = label(byId.get(id).callFrame);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + (dt[i] ?? 0));
  }
}
const pct = (us) => ((100 * us) / total).toFixed(1).padStart(5) + '%';
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`);
console.log('--- self time ---');
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
console.log('--- total (inclusive) time ---');
for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
