#!/usr/bin/env node
// Thin launcher: the broker is compiled to ../dist by `npm run build:broker` (run by `npm install`).
import { main } from '../dist/cli.js';

main(process.argv.slice(2), process.env).catch((err) => {
  console.error(`yak-broker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
