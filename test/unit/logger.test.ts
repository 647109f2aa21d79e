import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../broker-runtime/src/logger.js';

test('the text format is one readable line: time, level, [broker], message; fields are not shown', () => {
  const lines: string[] = [];
  const log = createLogger('b1', 'info', (l) => lines.push(l));
  log('info', 'elected leader with epoch 3', 'leader.elected', { epoch: 3 });
  log('debug', 'not shown');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  \[b1\] elected leader with epoch 3$/);
});

test('the json format writes one object per line: time, level, broker, event, message, fields', () => {
  const lines: string[] = [];
  const log = createLogger('b1', 'debug', (l) => lines.push(l), 'json');
  log('warn', 'a "quoted"\nmultiline message', 'storage.fault', { kind: 'full', errno: 'ENOSPC', n: 2, ok: false, gone: null });
  log('debug', 'no event given');
  assert.equal(lines.length, 2);
  for (const line of lines) assert.ok(!line.includes('\n'), 'one line each');
  const first = JSON.parse(lines[0]!);
  assert.deepEqual(Object.keys(first), ['time', 'level', 'broker', 'event', 'message', 'fields']);
  assert.ok(!Number.isNaN(Date.parse(first.time)));
  assert.deepEqual(
    { ...first, time: 'T' },
    { time: 'T', level: 'warn', broker: 'b1', event: 'storage.fault', message: 'a "quoted"\nmultiline message', fields: { kind: 'full', errno: 'ENOSPC', n: 2, ok: false, gone: null } },
  );
  assert.deepEqual({ ...JSON.parse(lines[1]!), time: 'T' }, { time: 'T', level: 'debug', broker: 'b1', event: 'log', message: 'no event given', fields: {} });
});

test('the json format filters by level as the text format does', () => {
  const lines: string[] = [];
  const log = createLogger('b1', 'warn', (l) => lines.push(l), 'json');
  log('info', 'dropped');
  log('error', 'kept');
  assert.deepEqual(lines.map((l) => JSON.parse(l).message), ['kept']);
});
