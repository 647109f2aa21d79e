import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MAX_META_BYTES, MessageReader, StreamProtocolError, encodeMessage } from '../../../broker-runtime/src/replication/stream-framing.js';

const joined = (id: number, meta: string, body: Buffer) => Buffer.concat(encodeMessage(id, meta, body));

test('a message read back is the message written: id, meta and body', () => {
  const body = randomBytes(1000);
  const [m, ...rest] = new MessageReader(4096).push(joined(7, '12.abc', body));
  assert.equal(rest.length, 0);
  assert.equal(m!.id, 7);
  assert.equal(m!.meta.toString('latin1'), '12.abc');
  assert.deepEqual(m!.body, body);
});

test('messages split at every byte boundary, and many in one read, come out whole and in order', () => {
  const messages = [joined(1, '200', randomBytes(50)), joined(2, '', Buffer.alloc(0)), joined(0xffffffff, 'x'.repeat(MAX_META_BYTES), randomBytes(300))];
  const stream = Buffer.concat(messages);
  for (const size of [1, 2, 3, 5, 9, 10, 11, 64, stream.length]) {
    const reader = new MessageReader(4096);
    const out = [];
    for (let at = 0; at < stream.length; at += size) out.push(...reader.push(stream.subarray(at, at + size)));
    assert.deepEqual(out.map((m) => m.id), [1, 2, 0xffffffff], `chunks of ${size}`);
    assert.deepEqual(Buffer.concat(out.map((m) => Buffer.concat(encodeMessage(m.id, m.meta, m.body)))), stream, `chunks of ${size}`);
    assert.equal(reader.pendingBytes(), 0);
  }
});

test('a partial message is held until the rest arrives, and nothing is answered early', () => {
  const whole = joined(3, 'meta', randomBytes(100));
  const reader = new MessageReader(4096);
  assert.deepEqual(reader.push(whole.subarray(0, 3)), []);
  assert.deepEqual(reader.push(whole.subarray(3, 60)), []);
  assert.equal(reader.pendingBytes(), 60 - 4, 'the length prefix is consumed once read');
  assert.equal(reader.push(whole.subarray(60)).length, 1);
});

test('a declared length above the limit is refused as soon as the 4 length bytes are read, before the body is buffered', () => {
  const reader = new MessageReader(1000);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(6 + 1001);
  assert.throws(() => reader.push(head), StreamProtocolError);
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(0xffffffff);
  assert.throws(() => new MessageReader(1000).push(huge), /exceeds the limit of 1000/);
  // Exactly at the limit is fine.
  assert.equal(new MessageReader(1000).push(joined(1, '', Buffer.alloc(1000))).length, 1);
});

test('garbage is refused: a length shorter than the header, a meta longer than allowed or than the message', () => {
  const short = Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5]);
  assert.throws(() => new MessageReader(1000).push(short), /shorter than its own header/);
  const longMeta = Buffer.alloc(4 + 6 + 300);
  longMeta.writeUInt32BE(6 + 300);
  longMeta.writeUInt16BE(MAX_META_BYTES + 1, 8);
  assert.throws(() => new MessageReader(1000).push(longMeta), /meta of 257 bytes exceeds 256/);
  const pastEnd = Buffer.alloc(4 + 6 + 10);
  pastEnd.writeUInt32BE(6 + 10);
  pastEnd.writeUInt16BE(11, 8);
  assert.throws(() => new MessageReader(1000).push(pastEnd), /runs past the message/);
  // Random bytes never hang or crash the reader: each either parses, waits, or throws StreamProtocolError.
  for (let i = 0; i < 500; i++) {
    const reader = new MessageReader(1 << 16);
    try {
      reader.push(randomBytes(1 + (i % 64)));
    } catch (err) {
      assert.ok(err instanceof StreamProtocolError, String(err));
    }
  }
});

test('encodeMessage refuses what it could not frame', () => {
  assert.throws(() => encodeMessage(-1, '', Buffer.alloc(0)), RangeError);
  assert.throws(() => encodeMessage(2 ** 32, '', Buffer.alloc(0)), RangeError);
  assert.throws(() => encodeMessage(1, 'x'.repeat(MAX_META_BYTES + 1), Buffer.alloc(0)), RangeError);
});
