#!/usr/bin/env node
// Rewrites imports of the helpers that moved from test/helpers (and chaos/rng.ts) into testkit/.
// For merging branches written before the move: `node scripts/codemods/testkit-imports.mjs test chaos bench`.
// Each import's path is resolved where the file stood before the move and written relative to
// where it stands now; `sleep`/`waitFor` (now testkit/wait.ts) are split off imports of ports.js.
// Safe to run twice. Delete this script once no branch from before the move is left.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const MOVED = {
  'test/helpers/broker-process.ts': 'testkit/broker/process.ts',
  'test/helpers/cluster.ts': 'testkit/broker/cluster.ts',
  'test/helpers/verify.ts': 'testkit/broker/verify.ts',
  'test/helpers/certs.ts': 'testkit/certs.ts',
  'test/helpers/kafka-wire.ts': 'testkit/kafka-wire.ts',
  'test/helpers/http.ts': 'testkit/http.ts',
  'test/helpers/ports.ts': 'testkit/ports.ts',
  'test/helpers/redis-server.ts': 'testkit/redis/server.ts',
  'test/helpers/redis-sentinel.ts': 'testkit/redis/sentinel.ts',
  'test/helpers/redis-cluster.ts': 'testkit/redis/cluster.ts',
  'test/helpers/key-slot.ts': 'testkit/redis/key-slot.ts',
  'chaos/rng.ts': 'testkit/rng.ts',
  'test/sim/rng.ts': 'testkit/rng.ts',
};
const WAIT_NAMES = new Set(['sleep', 'waitFor']);
const BEFORE = Object.fromEntries(Object.entries(MOVED).map(([from, to]) => [to, from]));

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(m?ts|vue)$/.test(name)) out.push(p);
  }
  return out;
}

function specifier(fromRel, toRel) {
  let s = posix.relative(posix.dirname(fromRel), toRel).replace(/\.ts$/, '.js');
  return s.startsWith('.') ? s : `./${s}`;
}

const IMPORT = /^(import|export)(\s+type)?\s+(\{[^}]*\}|[^'"]*?)\s+from\s+'(\.[^']*)';$/gm;

let changed = 0;
for (const abs of process.argv.slice(2).flatMap((d) => files(resolve(d)))) {
  const now = relative(root, abs).split('\\').join('/');
  const before = BEFORE[now] ?? now;
  const src = readFileSync(abs, 'utf8');
  const out = src.replace(IMPORT, (whole, kw, typeKw = '', clause, spec) => {
    const target = posix.normalize(posix.join(posix.dirname(before), spec)).replace(/\.js$/, '.ts');
    const moved = MOVED[target];
    if (!moved && !BEFORE[now]) return whole;
    const dest = moved ?? target;
    if (dest !== 'testkit/ports.ts' || !clause.startsWith('{')) return `${kw}${typeKw} ${clause} from '${specifier(now, dest)}';`;
    const names = clause.slice(1, -1).split(',').map((n) => n.trim()).filter(Boolean);
    const wait = names.filter((n) => WAIT_NAMES.has(n.replace(/^type\s+/, '')));
    const ports = names.filter((n) => !wait.includes(n));
    const lines = [];
    if (ports.length) lines.push(`${kw}${typeKw} { ${ports.join(', ')} } from '${specifier(now, 'testkit/ports.ts')}';`);
    if (wait.length) lines.push(`${kw}${typeKw} { ${wait.join(', ')} } from '${specifier(now, 'testkit/wait.ts')}';`);
    return lines.join('\n');
  });
  if (out !== src) {
    writeFileSync(abs, out);
    changed++;
  }
}
console.log(`rewrote imports in ${changed} file(s)`);
