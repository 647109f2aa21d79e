// The broker's HTTP layer alone, against the bare node:http echo: server CPU per POST /produce.
// Each side is a process of its own: the echo server (bench/echo-server.ts), or a build's
// createBrokerServer (hot routes, body, validation, answer) over a service whose produce answers at
// once (no log, no replication). Same client as the bench (32 keep-alive connections, one request
// each at a time), rounds interleaved; CPU from /proc, so a loaded machine hardly moves it.
//
//   npx tsx bench/http-route-probe.mts [--rounds 7] [--ms 2000] --side echo --side 'new=' --side 'old=/tmp/old'
//
// A side is `echo` or LABEL=ROOT (ROOT: a tree holding broker-runtime/dist; empty: this tree).
import { resolve } from 'node:path';
import { ChildServer } from './child-server.js';
import { ECHO_SERVER_SOURCE } from './echo-server.js';
import { processCpuMs } from './cpu.js';
import { HttpConnection } from './http-conn.js';
import { produceBody } from './payload.js';
import { alternate, runFor } from './rounds.js';
import { median } from './stats.js';

const route = (dist: string) => `
import(${JSON.stringify(`${dist}/http/index.js`)}).then(({ createBrokerServer }) => {
  let offset = 0;
  const service = { produce: async (_topic, records) => records.map(() => ({ partition: 0, offset: offset++ })) };
  const server = createBrokerServer(service, { maxMessageBytes: 1024 * 1024, logger: () => {} });
  server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
  process.on('SIGTERM', () => process.exit(0));
});
`;

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : Number(args[i + 1]);
};
const rounds = opt('--rounds', 7);
const ms = opt('--ms', 2000);
const clients = 32;
const specs = args.flatMap((a, i) => (a === '--side' ? [args[i + 1]!] : []));
if (specs.length === 0) specs.push('echo', 'this=');

interface Side {
  label: string;
  server: ChildServer;
  conns: HttpConnection[];
  perRequest: number[];
}

const sides: Side[] = [];
try {
  for (const spec of specs) {
    const [label, root = ''] = spec === 'echo' ? ['echo'] : (spec.split('=', 2) as [string, string?]);
    const dist = resolve(root || '.', 'broker-runtime/dist');
    const server = await ChildServer.start(label, ['-e', spec === 'echo' ? ECHO_SERVER_SOURCE : route(dist)]);
    const url = `http://127.0.0.1:${server.port}`;
    sides.push({ label, server, conns: await Promise.all(Array.from({ length: clients }, () => HttpConnection.open(url))), perRequest: [] });
  }
  const body = produceBody('probe-route', 1);
  const round = async (side: Side, record: boolean, roundMs: number) => {
    const before = processCpuMs(side.server.pid);
    let n = 0;
    await runFor(roundMs, clients, async (w) => {
      const r = await side.conns[w]!.request('POST', '/produce', body);
      if (r.status !== 200) throw new Error(`${side.label}: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
      n++;
    });
    const after = processCpuMs(side.server.pid);
    if (record && before !== null && after !== null) side.perRequest.push(((after - before) * 1000) / n);
  };
  for (const s of sides) await round(s, false, 1000);
  await alternate(rounds, sides.map((s) => () => round(s, true, ms)));
  const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`load ${load}; ${rounds} rounds of ${ms} ms; server CPU per POST /produce (µs), median and rounds`);
  for (const s of sides) console.log(`${s.label.padEnd(10)} ${median(s.perRequest)!.toFixed(1).padStart(6)}   ${s.perRequest.map((v) => v.toFixed(1)).join(' ')}`);
} finally {
  for (const s of sides) {
    for (const c of s.conns) c.close();
    await s.server.stop();
  }
}
