import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

/**
 * The README and docs/ are read by users who have only the repository: every relative link and
 * image must name a file inside it that exists (issue 11: the README pointed at ../shared/DESIGN.md).
 */
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const FILES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
// [text](target) and ![alt](target), not inside inline code.
const LINK = /!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

for (const file of FILES) {
  test(`${file}: every relative link names a file inside the repository`, () => {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/`[^`\n]*`/g, '');
    const bad: string[] = [];
    for (const [, target] of text.matchAll(LINK)) {
      if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
      const path = resolve(ROOT, dirname(file), decodeURI(target!.split('#')[0]!));
      const inside = !relative(ROOT, path).startsWith('..');
      if (!inside || !existsSync(path)) bad.push(target!);
    }
    assert.deepEqual(bad, [], `links to files users do not have: ${bad.join(', ')}`);
  });
}

test('the README does not send users to files outside the repository, even in code', () => {
  assert.doesNotMatch(readFileSync(join(ROOT, 'README.md'), 'utf8'), /\.\.\/shared\//);
});
