/**
 * What keepPausedTlsConnectionsPaused (broker-runtime/src/http/tls-pause.ts) costs: server CPU per
 * request and requests/s of a bare node:https server (server.mts, own process) with and without it,
 * 4 keep-alive clients POSTing 1 KiB and 100 KiB bodies, alternated 3 times:
 *
 *   node --import tsx test/helpers/tls-paused/cost.mts
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { makeTestCerts } from '../../../testkit/certs.js';
import { startReproServer } from './start.js';
const certs = makeTestCerts();
const ca = readFileSync(certs.caCert);
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
async function run(fix: boolean, bodyBytes: number, n: number) {
  const s = await startReproServer({ cert: certs.serverCert, key: certs.serverKey, answer: 'handler', busyMs: 0, bytes: 100, fix });
  const body = Buffer.alloc(bodyBytes, 'b');
  const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 4 });
  const call = () => new Promise<void>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: s.port, servername: 'localhost', method: 'POST', path: '/upload', agent, headers: { 'content-length': body.length } }, (res) => { res.resume(); res.on('end', () => resolve()); });
    req.on('error', reject); req.end(body);
  });
  await Promise.all(Array.from({ length: 4 }, async () => { for (let i = 0; i < 20; i++) await call(); }));
  const c0 = cpu(s.pid); const t0 = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => { for (let i = 0; i < n / 4; i++) await call(); }));
  const ms = performance.now() - t0; const cms = cpu(s.pid) - c0;
  agent.destroy(); s.stop();
  return { ms, cpuUsPerReq: (cms * 1000) / n };
}
for (const [bytes, n] of [[1024, 4000], [100 * 1024, 1000]] as const) {
  for (let rep = 0; rep < 3; rep++) for (const fix of [false, true]) {
    const r = await run(fix, bytes, n);
    console.log(`body ${bytes} B, fix ${fix ? 'on ' : 'off'}: server CPU ${r.cpuUsPerReq.toFixed(0)} µs/request, ${(n / r.ms * 1000).toFixed(0)} req/s`);
  }
}
certs.remove();
