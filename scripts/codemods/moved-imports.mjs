#!/usr/bin/env node
// Rewrites imports of files that moved on the testkit branch: the helpers from test/helpers (and
// chaos/rng.ts, test/sim/rng.ts) into testkit/, src/main/supervisor/ grouped into subfolders, and
// two broker-runtime renames. For merging branches written before the moves:
// `node scripts/codemods/moved-imports.mjs test chaos bench src broker-runtime/src testkit`.
// An import that names a moved file is written relative to where that file stands now; `sleep` and
// `waitFor` (now testkit/wait.ts) are split off imports of ports.js. The moved files themselves
// are left alone (git carries their content over, imports already rewritten). Safe to run twice.
// Delete this script once no branch from before the moves is left.
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
  'src/main/supervisor/managed-process.ts': 'src/main/supervisor/processes/managed-process.ts',
  'src/main/supervisor/output-buffer.ts': 'src/main/supervisor/processes/output-buffer.ts',
  'src/main/supervisor/process-specs.ts': 'src/main/supervisor/processes/specs.ts',
  'src/main/supervisor/process-messages.ts': 'src/main/supervisor/processes/messages.ts',
  'src/main/supervisor/cluster-processes.ts': 'src/main/supervisor/processes/cluster-processes.ts',
  'src/main/supervisor/free-port.ts': 'src/main/supervisor/processes/free-port.ts',
  'src/main/supervisor/broker-entry.ts': 'src/main/supervisor/processes/broker-entry.ts',
  'src/main/supervisor/wipe.ts': 'src/main/supervisor/processes/wipe.ts',
  'src/main/supervisor/shutdown.ts': 'src/main/supervisor/processes/shutdown.ts',
  'src/main/supervisor/observation.ts': 'src/main/supervisor/watch/observation.ts',
  'src/main/supervisor/poller.ts': 'src/main/supervisor/watch/poller.ts',
  'src/main/supervisor/http-json.ts': 'src/main/supervisor/watch/http-json.ts',
  'src/main/supervisor/cluster-watch.ts': 'src/main/supervisor/watch/cluster-watch.ts',
  'src/main/supervisor/cluster-monitor.ts': 'src/main/supervisor/watch/cluster-monitor.ts',
  'src/main/supervisor/rates.ts': 'src/main/supervisor/watch/rates.ts',
  'src/main/supervisor/snapshot.ts': 'src/main/supervisor/watch/snapshot.ts',
  'src/main/supervisor/redis-control.ts': 'src/main/supervisor/redis/control.ts',
  'src/main/supervisor/redis-locate.ts': 'src/main/supervisor/redis/locate.ts',
  'src/main/supervisor/redis-probe.ts': 'src/main/supervisor/redis/probe.ts',
  'src/main/supervisor/failover.ts': 'src/main/supervisor/failover/run.ts',
  'src/main/supervisor/failover-control.ts': 'src/main/supervisor/failover/control.ts',
  'src/main/supervisor/demo-producer.ts': 'src/main/supervisor/failover/demo-producer.ts',
  'src/main/supervisor/demo-client.ts': 'src/main/supervisor/failover/demo-client.ts',
  'src/main/supervisor/data-client.ts': 'src/main/supervisor/clients/data-client.ts',
  'src/main/supervisor/direct-produce.ts': 'src/main/supervisor/clients/direct-produce.ts',
  'src/main/supervisor/freezable-client.ts': 'src/main/supervisor/clients/freezable-client.ts',
  'src/main/supervisor/group-members.ts': 'src/main/supervisor/clients/group-members.ts',
  'src/main/supervisor/cluster-credential.ts': 'src/main/supervisor/access/cluster-credential.ts',
  'src/main/supervisor/kafka-access.ts': 'src/main/supervisor/access/kafka-access.ts',
  'broker-runtime/src/broker/hwm-mirror.ts': 'broker-runtime/src/broker/high-watermark-mirror.ts',
  'broker-runtime/src/kafka/node-id.ts': 'broker-runtime/src/config/node-id.ts',
};
const WAIT_NAMES = new Set(['sleep', 'waitFor']);

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
  const src = readFileSync(abs, 'utf8');
  const out = src.replace(IMPORT, (whole, kw, typeKw = '', clause, spec) => {
    const target = posix.normalize(posix.join(posix.dirname(now), spec)).replace(/\.js$/, '.ts');
    const moved = MOVED[target];
    if (!moved) return whole;
    const dest = moved;
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
