import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

/**
 * What the README's Commands table promises about `npm install` (builds the broker, never fetches
 * Electron's binary) and `npx yak --help` rests on package.json; a newcomer reads the one and gets
 * the other, so they are held together here.
 */
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  allowScripts?: Record<string, boolean>;
  bin: Record<string, string>;
};
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('npm install builds the broker (prepare) and runs no install script of our own', () => {
  assert.match(pkg.scripts['prepare'] ?? '', /build:broker/);
  for (const hook of ['preinstall', 'install', 'postinstall']) assert.equal(pkg.scripts[hook], undefined, hook);
  assert.match(README, /`npm install` \| installs everything and builds the broker \(`broker-runtime\/dist`\)/);
});

test("Electron's binary download is denied as the README says, with the fallback for older npm", () => {
  assert.equal(pkg.allowScripts?.['electron'], false);
  assert.match(README, /`"allowScripts": \{"electron": false\}`/);
  assert.match(README, /ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install/);
});

test('the README names the bins package.json has, and does not claim npx swallows --help (npm >= 7 passes it on)', () => {
  assert.deepEqual(Object.keys(pkg.bin).sort(), ['yak', 'yak-broker']);
  assert.doesNotMatch(README, /`npx yak --help` is taken by npx/);
  assert.match(README, /`npx yak --help` \(or `npx yak help`\) lists them/);
});
