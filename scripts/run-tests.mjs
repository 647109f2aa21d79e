#!/usr/bin/env node
// Runs node's test runner over every *.test.ts below the given folders (Node 20's --test takes no
// globs), with tsx for TypeScript.
//
//   node scripts/run-tests.mjs folder-or-file...             one test run over all of them (the unit tests)
//   node scripts/run-tests.mjs --serial folder-or-file...    one file at a time
//   node scripts/run-tests.mjs --jobs=N folder-or-file...    N files at a time (the integration suite)
//   node scripts/run-tests.mjs --jobs=N --beside="command" folder-or-file...
//                                                            and the command beside the files not alone
//
// --serial and --jobs run each file in its own `node --test` (--serial streams its output, --jobs
// prints each file's whole when it ends), then a table of the files' durations; --write-durations
// saves them for the order below. With --jobs, two markers in a file's first lines (each with the
// reason) keep timing-sensitive files off a busy machine:
// - `run-tests: alone`: the file runs with no other file beside it (the chaos runs: ~1.2 cores each
//   against a 1 s lease).
// - `run-tests: quiet`: the file runs beside other quiet files only, `jobs` at a time: files whose
//   checks lean on timing (a lease kept through a fixed window) but that use under half a core each,
//   so two of them leave the cores room (slow Redis, multi-host).
// The alone files run first, then the quiet ones, then the rest, longest first
// (test/integration/durations.json, written with --write-durations), so the last files to finish
// are short ones. Each concurrent slot gets its own share of the free-port range
// (YAK_TEST_PORT_SLOT, read by testkit/ports.ts): two files never pick the same port.
//
// --beside runs a shell command (npm test: the Playwright suite) from the moment the alone and quiet
// files are done until it ends, beside the other files; its output comes whole at its end and its
// failure fails the run. The UI suite keeps about a third of one core busy (its one worker waits on
// the page) and the files side by side leave room: run one after the other, CI spent ~200 s on it
// with the cores mostly idle. Its web host picks its Redis and brokers' ports in a share of
// testkit's range that no file beside it uses (YAK_PORT_RANGE, below).
//
// The durations live in the folder given (test/integration/durations.json, test/unit/durations.json;
// --jobs=2 --write-durations measures each file alone). The unit tests too go longest first, in one
// run (scripts/run-in-order.mjs) rather than `node --test`, which sorts its files by path: the
// longest file (test/unit/sim, ~30 s of 72) came last but one and ran on alone, a core idle.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const args = process.argv.slice(2);
const serial = args.includes('--serial');
const jobsArg = args.find((a) => a.startsWith('--jobs='));
const jobs = serial ? 1 : jobsArg ? Number(jobsArg.slice('--jobs='.length)) : 0;
const writeDurations = args.includes('--write-durations');
const beside = args.find((a) => a.startsWith('--beside='))?.slice('--beside='.length);
const roots = args.filter((a) => !a.startsWith('--'));
if (jobsArg && (!Number.isInteger(jobs) || jobs < 1)) {
  console.error(`--jobs needs a positive integer, got ${jobsArg}`);
  process.exit(2);
}

function find(path) {
  if (!statSync(path).isDirectory()) return path.endsWith('.test.ts') ? [path] : [];
  const out = [];
  for (const name of readdirSync(path).sort()) out.push(...find(join(path, name)));
  return out;
}

const files = roots.flatMap((r) => find(r));
if (files.length === 0) {
  console.error(`no *.test.ts files under ${roots.join(', ')}`);
  process.exit(1);
}
const nodeArgs = ['--import', 'tsx', '--test', '--test-reporter=spec'];

// Known durations (seconds) of the files, for the longest-first order: the durations.json in the
// first folder given or the nearest one above it (test/integration/kafka uses test/integration's).
function durationsFile() {
  let dir = roots.find((r) => statSync(r).isDirectory()) ?? dirname(roots[0]);
  for (; dir !== '.' && dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'durations.json'))) return join(dir, 'durations.json');
  return 'test/integration/durations.json';
}
const DURATIONS = durationsFile();
const known = existsSync(DURATIONS) ? JSON.parse(readFileSync(DURATIONS, 'utf8')) : {};
const key = (f) => relative('.', f).split('\\').join('/');
// A file not measured yet goes early: it may be long, and a short one costs little there.
const expected = (f) => known[key(f)] ?? 60;
const byLength = [...files].sort((a, b) => expected(b) - expected(a));

if (jobs === 0) {
  // One run over every file, each still in its own process, in the order given (scripts/run-in-order.mjs).
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'run-in-order.mjs'), ...byLength], { stdio: 'inherit' });
  process.exit(res.status ?? 1);
}

/** The file's `run-tests: alone` or `run-tests: quiet` marker (in its first 40 lines), or null. */
const marker = (f) => readFileSync(f, 'utf8').split('\n').slice(0, 40).join('\n').match(/run-tests: (alone|quiet)\b/)?.[1] ?? null;

const queue = jobs > 1 ? byLength : files;

/**
 * CPU seconds used so far by this runner's finished children and their descendants (Linux's
 * cutime + cstime in /proc/self/stat; null elsewhere). Read as each file's process is reaped, the
 * difference is that file's CPU, brokers and Redis included: set against the wall time, it says
 * how busy the cores were, and so whether more or fewer files at a time would pay.
 */
function childCpuSeconds() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}
let cpuSeen = childCpuSeconds();

const results = [];
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const started = Date.now();

/**
 * With --beside, the free-port range (testkit/ports.ts: 10000 up to the ephemeral ports) is cut in
 * jobs + 1 shares and the last goes to the command beside the files, as YAK_PORT_RANGE: the UI
 * suite's web host picks its Redis and brokers' ports there (src/main/supervisor/processes/free-port.ts
 * picks from the same range otherwise, and a broker restarted on its port could find it taken).
 */
const portSlots = beside ? jobs + 1 : jobs;
function besidePortRange() {
  try {
    const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (!(ephemeralLow > 12_000)) return null;
    const size = Math.floor((ephemeralLow - 10_000) / portSlots);
    return `${10_000 + jobs * size}-${10_000 + (jobs + 1) * size - 1}`;
  } catch {
    return null; // not Linux: testkit and the app both take the OS's choice (listen(0))
  }
}

function runFile(file, slot) {
  const env = { ...process.env, YAK_TEST_PORT_SLOT: String(slot), YAK_TEST_PORT_SLOTS: String(portSlots) };
  return runChild(spawn(process.execPath, [...nodeArgs, file], { env, stdio: ['ignore', 'pipe', 'pipe'] }), key(file), jobs === 1);
}

/** Waits for a child (a test file, or the --beside command), collecting its output, counts and times into results. */
function runChild(child, name, live) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    // One at a time, the output streams as it comes; side by side, each file's comes whole at its end.
    const chunks = [];
    if (live) process.stdout.write(`\n━━ ${name}\n`);
    const take = (c) => (chunks.push(c), live && process.stdout.write(c));
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code, signal) => {
      const seconds = (Date.now() - t0) / 1000;
      const cpuNow = childCpuSeconds();
      const cpu = cpuNow === null || cpuSeen === null ? null : cpuNow - cpuSeen;
      cpuSeen = cpuNow;
      const text = Buffer.concat(chunks).toString();
      for (const k of Object.keys(totals)) {
        const m = text.match(new RegExp(`^ℹ ${k} (\\d+)$`, 'm'));
        if (m) totals[k] += Number(m[1]);
      }
      const ok = code === 0;
      const verdict = `━━ ${name} — ${ok ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`} in ${seconds.toFixed(1)} s${cpu === null ? '' : ` (${cpu.toFixed(1)} s of CPU)`}`;
      process.stdout.write(live ? `${verdict}\n` : `\n${verdict}\n${text}`);
      results.push({ file: name, seconds, cpu, ok });
      resolve();
    });
  });
}

/** Runs the files `width` at a time, each slot taking the next file as its last one ends. */
async function runPool(list, width) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, list.length) }, async (_, slot) => {
      while (next < list.length) await runFile(list[next++], slot);
    }),
  );
}

// The files marked alone, one by one with nothing beside them; then the quiet ones beside each
// other; then the rest, `jobs` at a time (with --beside's command beside them).
const kinds = new Map(queue.map((f) => [f, jobs > 1 ? marker(f) : null]));
const phases = [];
const phase = async (name, list, run) => {
  if (list.length === 0) return;
  const t0 = Date.now();
  await run(list);
  phases.push(`${name} ${list.length} file(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
};
await phase('alone', queue.filter((f) => kinds.get(f) === 'alone'), async (list) => {
  for (const file of list) await runFile(file, 0);
});
await phase('quiet', queue.filter((f) => kinds.get(f) === 'quiet'), (list) => runPool(list, jobs));
const shared = queue.filter((f) => kinds.get(f) === null);
const besideRange = beside ? besidePortRange() : null;
const besideEnv = besideRange ? { ...process.env, YAK_PORT_RANGE: besideRange } : process.env;
const besideDone = beside ? runChild(spawn(beside, { shell: true, env: besideEnv, stdio: ['ignore', 'pipe', 'pipe'] }), `beside: ${beside}${besideRange ? ` (ports ${besideRange})` : ''}`, false) : null;
await phase(jobs > 1 ? 'shared' : 'all', shared, (list) => runPool(list, jobs));
await besideDone;

const wall = (Date.now() - started) / 1000;
const cpuTotal = results.every((r) => r.cpu !== null) ? results.reduce((sum, r) => sum + r.cpu, 0) : null;
const busy = cpuTotal === null ? '' : `; ${cpuTotal.toFixed(0)} s of CPU, ${(cpuTotal / wall).toFixed(2)} cores busy on average`;
console.log(`\n━━ durations (wall ${wall.toFixed(1)} s, ${jobs} at a time${busy}${phases.length > 1 ? `; ${phases.join(', ')}` : ''}); wall s, CPU s, file`);
for (const r of [...results].sort((a, b) => b.seconds - a.seconds)) console.log(`${r.seconds.toFixed(1).padStart(7)} ${r.cpu === null ? '' : r.cpu.toFixed(1).padStart(6)}  ${r.ok ? '  ' : '✖ '}${r.file}`);
console.log(Object.entries(totals).map(([k, v]) => `ℹ ${k} ${v}`).join('\n'));
const failed = results.filter((r) => !r.ok);
if (failed.length) console.log(`\n✖ failing files:\n${failed.map((r) => `  ${r.file}`).join('\n')}`);
if (writeDurations) {
  const out = { ...known };
  for (const r of results) if (!r.file.startsWith('beside: ')) out[r.file] = Math.round(r.seconds);
  writeFileSync(DURATIONS, `${JSON.stringify(Object.fromEntries(Object.entries(out).sort()), null, 2)}\n`);
  console.log(`durations written to ${DURATIONS}`);
}
process.exit(failed.length ? 1 : 0);
