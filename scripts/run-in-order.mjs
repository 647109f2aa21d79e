#!/usr/bin/env node
// node --import tsx scripts/run-in-order.mjs file...: one node:test run over the files, started in
// the order given (scripts/run-tests.mjs gives the longest first), as many at a time as there are
// cores (at least 2), with the spec reporter: what `node --test` does, less its sorting by path.
// Each file runs in its own process, which inherits this one's --import tsx.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const files = process.argv.slice(2).map((f) => resolve(f));
// Node's default is one file fewer than the cores (1 on a 2-core machine), which leaves a core
// idle while tsx compiles the next file; the runner itself hardly needs one.
const stream = run({ files, concurrency: Math.max(2, availableParallelism()) });
// As `node --test`: a failing test marked todo or skip does not fail the run.
stream.on('test:fail', (e) => {
  if (!e.todo && !e.skip) process.exitCode = 1;
});
stream.compose(spec).pipe(process.stdout);
