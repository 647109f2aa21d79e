/**
 * Hand-written hostile requests, as raw bytes, with the statuses each may get. Random generation
 * rarely builds these (100k-deep nesting, broken framing, header floods), so they are listed.
 */

export interface HostileCase {
  what: string;
  bytes: Buffer;
  allow: number[];
}

const deepArrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObjects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** A complete request with a content-length body, closing the connection after the answer. */
function post(path: string, body: string | Buffer, extra = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([
    Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\nConnection: close\r\n${extra}\r\n`, 'latin1'),
    b,
  ]);
}

const raw = (text: string) => Buffer.from(text, 'latin1');
const manyHeaders = (n: number) => Array.from({ length: n }, (_, i) => `X-H-${i}: v\r\n`).join('');

export function hostileCases(topic: string): HostileCase[] {
  const BAD = [400, 413];
  const ACCEPT = [200, 421]; // written by the leader; a follower points at it
  return [
    // nesting: must be 400 or 413, never a crash or a 500
    { what: '100k nested arrays as payload', bytes: post('/produce', `{"topic":"${topic}","payload":${deepArrays(100_000)}}`), allow: BAD },
    { what: '100k nested objects as payload', bytes: post('/produce', `{"topic":"${topic}","payload":${deepObjects(100_000)}}`), allow: BAD },
    { what: '100k nested arrays as a batch record payload', bytes: post('/produce/batch', `{"topic":"${topic}","records":[{"payload":${deepArrays(100_000)}}]}`), allow: BAD },
    { what: '100k nested arrays as the body', bytes: post('/produce', deepArrays(100_000)), allow: BAD },
    { what: '100k nested arrays as headers', bytes: post('/produce', `{"topic":"${topic}","payload":1,"headers":${deepArrays(100_000)}}`), allow: BAD },
    { what: '100k nested arrays as key', bytes: post('/produce', `{"topic":"${topic}","payload":1,"key":${deepArrays(100_000)}}`), allow: BAD },
    { what: '100k nested arrays as topic name', bytes: post('/topics', `{"name":${deepArrays(100_000)},"partitions":1}`), allow: BAD },
    { what: '1M unclosed brackets', bytes: post('/produce', '['.repeat(1_000_000)), allow: BAD },
    { what: '2M unclosed brackets (over the limit)', bytes: post('/produce', '['.repeat(2_000_000)), allow: [413] },
    { what: 'oversized payload (1 MiB + 1)', bytes: post('/produce', `{"topic":"${topic}","payload":"${'x'.repeat(1024 * 1024 + 1)}"}`), allow: [413] },
    { what: 'huge declared content-length, tiny body', bytes: raw(`POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n{}`), allow: [413] },
    // framing
    { what: 'negative content-length', bytes: raw('POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n'), allow: [400] },
    { what: 'non-numeric content-length', bytes: raw('POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n'), allow: [400] },
    { what: 'two different content-lengths', bytes: raw('POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x'), allow: [400] },
    { what: 'chunked and content-length together', bytes: raw('POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), allow: [400] },
    { what: 'bad chunk size', bytes: raw('POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'), allow: [400] },
    {
      what: 'chunked body over the limit',
      bytes: Buffer.concat([raw('POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'), ...Array.from({ length: 20 }, () => raw(`10000\r\n${'['.repeat(0x10000)}\r\n`)), raw('0\r\n\r\n')]),
      allow: [413],
    },
    { what: 'chunked valid body', bytes: raw(`POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{"top\r\n${(`ic":"${topic}","payload":"chunked"}`.length).toString(16)}\r\nic":"${topic}","payload":"chunked"}\r\n0\r\n\r\n`), allow: ACCEPT },
    { what: 'unknown HTTP version', bytes: raw('GET /health HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n'), allow: [400, 505] },
    { what: 'garbage request line', bytes: raw('\x00\x01\x02 garbage\r\n\r\n'), allow: [400] },
    { what: 'NUL in a header value', bytes: raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\n\r\n'), allow: [400] },
    { what: 'space in a header name', bytes: raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX A: b\r\n\r\n'), allow: [400] },
    { what: 'obsolete header folding', bytes: raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n  folded\r\nConnection: close\r\n\r\n'), allow: [200, 400] },
    { what: 'bare LF line ends', bytes: raw('GET /health HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n'), allow: [200, 400] },
    { what: 'HTTP/1.0 without Host', bytes: raw('GET /health HTTP/1.0\r\n\r\n'), allow: [200] },
    { what: '1,000 request headers', bytes: raw(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${manyHeaders(1000)}\r\n`), allow: [200, 431] },
    { what: '3,000 request headers (over 16 KiB)', bytes: raw(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${manyHeaders(3000)}\r\n`), allow: [431] },
    { what: 'one 20 KB header', bytes: raw(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`), allow: [431] },
    { what: '100 KB URL', bytes: raw(`GET /consume?topic=${'t'.repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`), allow: [414, 431] },
    { what: 'Expect: 100-continue', bytes: post('/produce', `{"topic":"${topic}","payload":"continued"}`, 'Expect: 100-continue\r\n'), allow: ACCEPT },
    { what: 'unknown Expect', bytes: post('/produce', `{"topic":"${topic}","payload":0}`, 'Expect: teapot\r\n'), allow: [417] },
    { what: 'websocket upgrade', bytes: raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'), allow: [200, 400, 404, 426] },
    { what: 'pipelined requests', bytes: raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'), allow: [200] },
    { what: 'produce body of invalid UTF-8', bytes: post('/produce', Buffer.concat([Buffer.from(`{"topic":"${topic}","payload":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')])), allow: [400] },
    { what: 'UTF-16 body', bytes: post('/produce', Buffer.from(`{"topic":"${topic}","payload":1}`, 'utf16le')), allow: [400] },
  ];
}
