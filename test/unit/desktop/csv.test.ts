import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCsv } from '../../../src/renderer/src/lib/csv.js';

/** Issue 11, item 4: the CSV upload sends what the file says, numbered as the file numbers it. */
const fixture = (name: string): string => readFileSync(new URL(`../../ui/fixtures/csv/${name}`, import.meta.url), 'utf8');
const plain = (v: Record<string, string>): Record<string, string> => ({ ...v });

describe('CSV reader (src/renderer/src/lib/csv.ts)', () => {
  it('keeps every value a string exactly as written: leading zeros, big ids, commas, quotes, line breaks, spaces', () => {
    const r = parseCsv(fixture('values.csv'));
    assert.ok(r.ok);
    assert.deepEqual(r.columns, ['id', 'zip', 'name', 'note']);
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(
      r.rows.map((row) => ({ line: row.line, values: plain(row.values) })),
      [
        { line: 2, values: { id: '1', zip: '00501', name: 'Holtsville', note: 'plain' } },
        { line: 3, values: { id: '12345678901234567890', zip: '02134', name: 'Boston, MA', note: 'says "hi"' } },
        { line: 4, values: { id: '3', zip: '', name: 'two\nlines', note: '  spaced  ' } },
        { line: 6, values: { id: '4', zip: '007', name: 'Zürich ✓', note: '1e5' } },
      ],
    );
  });

  it('numbers rows by the file\'s lines and lists malformed rows (with why) instead of sending them', () => {
    const r = parseCsv(fixture('bad-rows.csv'));
    assert.ok(r.ok);
    assert.deepEqual(
      r.rows.map((row) => [row.line, plain(row.values)]),
      [
        [2, { id: '1', name: 'a' }],
        [7, { id: '5', name: 'multi\r\nline' }],
        [9, { id: '6', name: 'f' }],
      ],
    );
    assert.deepEqual(r.skipped.map((s) => s.line), [3, 5, 6]);
    assert.match(r.skipped[0]!.reason, /3 values, the header names 2/);
    assert.match(r.skipped[1]!.reason, /1 value, the header names 2/);
    assert.match(r.skipped[2]!.reason, /after the closing quote/);
  });

  it('refuses a file with an unclosed quote, naming its line, and returns no rows at all', () => {
    const r = parseCsv(fixture('unclosed-quote.csv'));
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.line, 10);
    assert.match(r.reason, /line 10/);
    assert.match(r.reason, /Nothing was sent/);
  });

  it('names the line a multi-line record starts on when its quote is never closed', () => {
    const r = parseCsv('a,b\n1,2\n3,x"y\n4,"open\nmore\n');
    assert.ok(!r.ok);
    assert.equal(r.line, 4);
  });

  it('refuses duplicate and unnamed columns', () => {
    const dup = parseCsv(fixture('duplicate-header.csv'));
    assert.ok(!dup.ok);
    assert.match(dup.reason, /Columns 1 and 3 are both named "id"/);
    const unnamed = parseCsv('a,,c\n1,2,3\n');
    assert.ok(!unnamed.ok);
    assert.match(unnamed.reason, /Column 2 .*no name/);
  });

  it('takes CR, LF and CRLF line ends, a BOM, a last line without a newline, and a column named __proto__', () => {
    const r = parseCsv('\uFEFFa,__proto__\r1,x\r\n\n2,y');
    assert.ok(r.ok);
    assert.deepEqual(r.columns, ['a', '__proto__']);
    assert.deepEqual(r.rows.map((row) => [row.line, JSON.stringify(row.values)]), [
      [2, '{"a":"1","__proto__":"x"}'],
      [4, '{"a":"2","__proto__":"y"}'],
    ]);
  });

  it('an empty file or a header alone is not an error of the reader', () => {
    assert.ok(!parseCsv('').ok);
    const r = parseCsv('a,b\n');
    assert.ok(r.ok);
    assert.equal(r.rows.length, 0);
  });
});
