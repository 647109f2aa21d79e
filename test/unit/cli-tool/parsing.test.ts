import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCommandArgs, splitCommand } from '../../../broker-runtime/src/cli-tool/args.js';
import { connectionFrom, parseBrokers } from '../../../broker-runtime/src/cli-tool/connect.js';
import { parseOffsetSpec, startOffset } from '../../../broker-runtime/src/cli-tool/offset-spec.js';
import { parseHeaders, recordFromLine } from '../../../broker-runtime/src/cli-tool/produce-lines.js';
import { CommandError, UsageError } from '../../../broker-runtime/src/cli-tool/usage-error.js';

describe('yak command line parsing', () => {
  test('connection options may come before or after the command name', () => {
    assert.deepEqual(splitCommand(['-b', 'http://h:1', 'consume', 't']), { command: 'consume', rest: ['-b', 'http://h:1', 't'] });
    assert.deepEqual(splitCommand(['--token', 'a:b', '--json', 'cluster']), { command: 'cluster', rest: ['--token', 'a:b', '--json'] });
    assert.deepEqual(splitCommand(['--help']), { command: null, rest: ['--help'] });
  });

  test('-o -5 is read as kcat writes it; a parse error is one UsageError line', () => {
    const { values } = parseCommandArgs('consume', ['t', '-o', '-5'], { offset: { type: 'string', short: 'o' } });
    assert.equal(values['offset'], '-5');
    assert.throws(() => parseCommandArgs('consume', ['--nope'], {}), (e: unknown) => e instanceof UsageError && !e.message.includes('\n') && e.message.includes('--nope'));
  });

  test('offsets: beginning, end, N and -N per partition; timestamps are refused as unsupported', () => {
    assert.equal(startOffset(parseOffsetSpec(undefined), 9), 0);
    assert.equal(startOffset(parseOffsetSpec('end'), 9), 9);
    assert.equal(startOffset(parseOffsetSpec('4'), 9), 4);
    assert.equal(startOffset(parseOffsetSpec('-3'), 9), 6);
    assert.equal(startOffset(parseOffsetSpec('-30'), 9), 0);
    assert.throws(() => parseOffsetSpec('s@1700000000000'), /timestamp/);
    assert.throws(() => parseOffsetSpec('1.5'), UsageError);
  });

  test('a produce line: -K splits at the first delimiter only; auto sends JSON as JSON and text as strings', () => {
    const rules = { keyDelimiter: ':', headers: { h: 'v' }, value: 'auto' as const };
    assert.deepEqual(recordFromLine('k:{"a":1}', 1, rules), { key: 'k', payload: { a: 1 }, headers: { h: 'v' } });
    assert.deepEqual(recordFromLine('k:a:b', 1, rules), { key: 'k', payload: 'a:b', headers: { h: 'v' } });
    assert.deepEqual(recordFromLine('no delimiter', 1, rules), { payload: 'no delimiter', headers: { h: 'v' } });
    assert.deepEqual(recordFromLine('42', 1, { headers: {}, value: 'string', partition: 2 }), { payload: '42', partition: 2 });
    assert.throws(() => recordFromLine('not json', 7, { headers: {}, value: 'json' }), (e: unknown) => e instanceof CommandError && /line 7/.test(e.message));
    assert.deepEqual(parseHeaders(['a=b', 'trace=x=y']), { a: 'b', trace: 'x=y' });
    assert.throws(() => parseHeaders(['=v']), UsageError);
  });

  test('brokers: a comma list, host:port means http://, flags win over YAK_BROKERS, a bad URL is a UsageError', () => {
    assert.deepEqual(parseBrokers('http://a:1/, b:2 ,', '--brokers'), ['http://a:1', 'http://b:2']);
    assert.throws(() => parseBrokers('ftp://a:1', '--brokers'), UsageError);
    // A port alone (`-b 5001`) is not the host 5001 (0.0.19.137): say what to write instead.
    assert.throws(() => parseBrokers('5001', '--brokers'), { name: 'UsageError', message: "--brokers: '5001' is a port alone; give host:port, e.g. 127.0.0.1:5001" });
    assert.deepEqual(connectionFrom({}, { YAK_BROKERS: 'x:1' }).brokers, ['http://x:1']);
    assert.deepEqual(connectionFrom({ brokers: 'y:2' }, { YAK_BROKERS: 'x:1' }).brokers, ['http://y:2']);
    assert.deepEqual(connectionFrom({}, {}).brokers, ['http://127.0.0.1:5001']);
    assert.equal(connectionFrom({}, { YAK_TOKEN: 'p:s' }).options.token, 'p:s');
    assert.throws(() => connectionFrom({ 'tls-cert': '/nonexistent' }, {}), /--tls-cert/);
  });
});
