import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isJsonBytes } from '../../../broker-runtime/src/kafka/json-bytes.js';

/** What the validator must agree with: JSON.parse of the UTF-8 text. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function agrees(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  assert.equal(isJsonBytes(buf), parses(text), `${JSON.stringify(text)}: isJsonBytes says ${isJsonBytes(buf)}`);
}

test('isJsonBytes agrees with JSON.parse on hand-picked texts', () => {
  const cases = [
    '{}', '[]', '""', '0', '-0', '1.5e10', '-1E-2', '1e+2', 'true', 'false', 'null', ' \t\r\n{"a" : [1, 2, {"b": null}]} \n',
    '{"seq":1,"pad":"xxxxxxxx"}', '"\\u00e9\\n\\t\\"\\\\\\/\\b\\f\\r"', '"é日本"', '[[[[[[]]]]]]', '{"a":{"b":{"c":[true,false,null]}}}',
    '', ' ', '{', '}', '[', ']', '{]', '[}', '[1,]', '{"a":1,}', '{,}', '[,1]', '{"a"}', '{"a":}', '{a:1}', "{'a':1}", '01', '-', '1.', '.5', '1e', '1e+',
    '+1', '0x10', 'NaN', 'Infinity', 'tru', 'nul', 'truex', 'true false', '1 2', '"abc', '"\\x"', '"\\u12"', '"\\u12g4"', '"a\nb"', '"\u0001"', '\uFEFF{}',
    '[1]]', '{"a":1}}', '"a"b', '[1 2]', '{"a" 1}', '{"a":1 "b":2}', '1e400', '-', '--1', '[-]', '\u00a0{}', '{}\u00a0', '[1,\u00a02]',
    '['.repeat(5000) + ']'.repeat(5000), '['.repeat(5000) + ']'.repeat(4999),
  ];
  for (const c of cases) agrees(c);
});

test('isJsonBytes agrees with JSON.parse on any JSON value, and on it cut, mutated and padded', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.nat(), fc.integer({ min: 0, max: 127 }), fc.constantFrom('', ' ', '\n', '\u00a0', ',', '}', ']', '"'), (value, at, byte, pad) => {
      const text = JSON.stringify(value, null, at % 3 === 0 ? 1 : undefined) ?? 'null';
      agrees(text);
      agrees(pad + text);
      agrees(text + pad);
      const i = at % (text.length + 1);
      agrees(text.slice(0, i));
      agrees(text.slice(0, i) + String.fromCharCode(byte) + text.slice(i + 1));
      agrees(text.slice(0, i) + String.fromCharCode(byte) + text.slice(i));
    }),
    { numRuns: 3000 },
  );
});

test('isJsonBytes agrees with JSON.parse on short texts of JSON punctuation', () => {
  const alphabet = fc.constantFrom(...'{}[]:,"\\ 0123-+.eEtrufalsn\\u00'.split(''));
  fc.assert(fc.property(fc.array(alphabet, { maxLength: 12 }), (chars) => agrees(chars.join(''))), { numRuns: 20000 });
});

test('isJsonBytes checks only the range it is given', () => {
  const buf = Buffer.from('xx{"a":1}yy');
  assert.equal(isJsonBytes(buf, 2, 9), true);
  assert.equal(isJsonBytes(buf, 2, 10), false);
  assert.equal(isJsonBytes(buf, 1, 9), false);
});
