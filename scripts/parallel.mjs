#!/usr/bin/env node
// Runs shell commands side by side, as many at a time as there are cores (at least 2), and fails
// when any of them fails. For steps that each keep one core busy and need nothing from one another:
// the typecheck projects (each tsc is single-threaded) and the two builds. On a 2-core CI machine,
// one after the other left a core idle through all of them.
//
//   node scripts/parallel.mjs "cmd one" "cmd two" ...     (give the longest first)
//
// Each command's output is printed whole when it ends, headed by the command and its time, so two
// compilers' errors never interleave.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const commands = process.argv.slice(2);
if (commands.length === 0) {
  console.error('usage: node scripts/parallel.mjs "command" ...');
  process.exit(2);
}
const jobs = Math.max(2, availableParallelism());

function run(command) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('close', (code, signal) => {
      const ok = code === 0;
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(`\n━━ ${command} — ${ok ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`} in ${seconds} s\n${Buffer.concat(chunks).toString()}`);
      resolve(ok ? null : command);
    });
  });
}

const failed = [];
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(jobs, commands.length) }, async () => {
    while (next < commands.length) {
      const bad = await run(commands[next++]);
      if (bad) failed.push(bad);
    }
  }),
);
if (failed.length) {
  console.error(`\n✖ failed:\n${failed.map((c) => `  ${c}`).join('\n')}`);
  process.exit(1);
}
