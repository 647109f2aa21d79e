#!/usr/bin/env node
// Thin launcher: the yak CLI is compiled to ../dist by `npm run build:broker` (run by `npm install`).
import { main } from '../dist/cli-tool/index.js';

main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`yak: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
