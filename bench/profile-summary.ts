// Summarises .cpuprofile files (from `npm run bench -- --profile DIR`): where a broker's CPU time
// went, by bucket (JSON, HTTP, fs, GC, ...) and by function (self time), so a profile can be read
// without DevTools. Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [top]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Buckets that describe how code was called, not what it does: a frame's caller decides instead. */
const GENERIC = new Set(['promises / microtasks', 'timers', 'program / other native']);

/** First matching bucket wins; matched against "function url". */
const BUCKETS: [string, RegExp][] = [
  ['idle', /^\(idle\) /],
  ['GC', /^\(garbage collector\) /],
  ['JSON', /^(parse|stringify) $|JSON/],
  ['fs / file handles', /node:internal\/fs|node:fs |FileHandle/],
  ['HTTP (node:http, parser, sockets)', /node:_http|node:http|llhttp|HTTPParser|node:net|node:stream|node:internal\/streams|onStreamRead|WriteWrap|node:_stream|stream_base_commons/],
  ['ioredis (Redis calls)', /ioredis|redis-parser|denque/],
  ['express', /node_modules\/(express|router|body-parser|finalhandler|send)/],
  ['crc / codec', /record-codec|crc32|zlib/],
  ['log storage', /\/log\//],
  ['replication', /\/replication\//],
  ['election', /\/election\//],
  ['broker + http routes', /\/broker\/|\/http\//],
  ['metrics', /\/metrics\//],
  ['promises / microtasks', /processTicksAndRejections|runMicrotasks|node:internal\/process\/task_queues|Promise/],
  ['timers', /node:internal\/timers|listOnTimeout/],
  ['program / other native', /^\(program\) |^\(root\) /],
];

function summarise(path: string, top: number): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native leaves (writev, read, writeBuffer, ...) have no URL: they count for the nearest caller
  // that names a bucket, so a socket write lands in HTTP and a file write in fs.
  const bucketOf = (id: number): string => {
    const own = byId.get(id)!.callFrame;
    if (/^\((idle|garbage collector|program|root)\)$/.test(own.functionName)) return BUCKETS.find(([, re]) => re.test(`${own.functionName} `))?.[0] ?? 'other JS';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const hit = BUCKETS.find(([name, re]) => !GENERIC.has(name) && re.test(`${f.functionName} ${f.url}`));
      if (hit) return hit[0];
    }
    return BUCKETS.find(([, re]) => re.test(`${own.functionName} ${own.url}`))?.[0] ?? 'other JS';
  };
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const buckets = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const label = `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\/.*?\/(broker-runtime|node_modules)\//, '$1/')}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fns.set(label, (fns.get(label) ?? 0) + us);
    const bucket = bucketOf(id);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
  }
  const busy = total - (buckets.get('idle') ?? 0);
  const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1).padStart(5)}%`;
  const lines = [`${path}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy`, '  by bucket (share of busy time):'];
  for (const [b, us] of [...buckets].sort((a, b) => b[1] - a[1])) if (b !== 'idle') lines.push(`    ${pct(us, busy)}  ${b}`);
  lines.push(`  top ${top} functions by self time (share of busy time):`);
  for (const [f, us] of [...fns].sort((a, b) => b[1] - a[1]).filter(([f]) => !f.startsWith('(idle)')).slice(0, top)) lines.push(`    ${pct(us, busy)}  ${f}`);
  return lines.join('\n');
}

const files = process.argv.slice(2).filter((a) => a.endsWith('.cpuprofile'));
const top = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 25);
if (files.length === 0) {
  process.stderr.write('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile... [top]\n');
  process.exit(2);
}
for (const f of files) process.stdout.write(summarise(f, top) + '\n\n');
