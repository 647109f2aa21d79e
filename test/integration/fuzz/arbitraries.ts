import fc from 'fast-check';

/**
 * Generators of hostile requests for the broker's HTTP API. They lean towards what breaks parsers:
 * wrong types, numbers at and past the edges of safe integers, invalid UTF-8, truncation, and
 * names that are almost valid. Topics that may really be created are kept to a small set, so a
 * long run does not fill the disk with partitions.
 */

export interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Topics a valid request may write to (created on first produce with 3 partitions). */
export const FUZZ_TOPICS = ['fz', 'fz-b'] as const;

const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

const topicArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FUZZ_TOPICS) },
  { weight: 2, arbitrary: fc.constantFrom('', '.', '..', 'a b', 'a/b', '../etc', 'x'.repeat(250), 'ü', 'nul\u0000', 'fz\n', ' fz', 'FZ?', 'fz%2F') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: wrongType },
);

/** Offsets and partitions: the edges of safe integers, negative zero, fractions, numbers as strings. */
export const numberish = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 4 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(-1, -0, 0.5, 1.5, 3, 1000, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1e300, Number.MAX_VALUE, Number.MIN_VALUE, -1e300),
  },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom('0', '1', '-1', 'NaN', 'Infinity', '1e3', '0x1', '') },
  { weight: 1, arbitrary: wrongType },
);

const payloadArb = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_300_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => nestedArray(n)) },
);

const headersArb = fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }), { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), wrongType, { minKeys: 1, maxKeys: 3 }) },
  { weight: 1, arbitrary: wrongType },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i}`, 'v']))) },
);

/** Keys, with lone surrogates (valid JSON escapes, but no UTF-8 can store them). */
const keyArb = fc.oneof(fc.string({ unit: 'binary', maxLength: 16 }), fc.constantFrom(null, '\ud800', 'a\udc00b', '\udbff\udfff'), wrongType);

const recordArb = fc.record({ key: keyArb, payload: payloadArb, partition: numberish, headers: headersArb }, { requiredKeys: [] });

const produceObj = fc.record({ topic: topicArb, key: keyArb, payload: payloadArb, partition: numberish, headers: headersArb }, { requiredKeys: [] });

/** Mostly valid produces, so that accepted records (and their round trip) are fuzzed too. */
const validishObj = fc.record(
  {
    topic: fc.constantFrom(...FUZZ_TOPICS),
    payload: fc.jsonValue({ maxDepth: 4 }),
    key: fc.option(fc.string({ unit: 'grapheme', maxLength: 12 })),
    partition: fc.option(fc.nat({ max: 2 })),
    headers: fc.option(fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 12 }), { maxKeys: 4 })),
  },
  { requiredKeys: ['topic', 'payload'] },
);

const batchObj = fc.record(
  {
    topic: topicArb,
    records: fc.oneof(
      { weight: 4, arbitrary: fc.array(recordArb, { maxLength: 20 }) },
      { weight: 1, arbitrary: fc.array(wrongType, { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: wrongType },
    ),
  },
  { requiredKeys: [] },
);

/** Bodies that JSON.stringify cannot write: NaN, Infinity, -0 literals, comments, duplicated keys, BOM. */
const literalBodies = fc.constantFrom(
  '{"topic":"fz","payload":1,"partition":NaN}',
  '{"topic":"fz","payload":1,"partition":Infinity}',
  '{"topic":"fz","payload":1,"partition":-0}',
  '{"topic":"fz","payload":1,"partition":1e400}',
  '{"topic":"fz","payload":1,"partition":0.0000001e7}',
  '{"topic":"fz","payload":1 /* c */}',
  '{"topic":"fz","topic":"../x","payload":1}',
  '\uFEFF{"topic":"fz","payload":1}',
  '{"topic":"fz","payload":"\\ud800"}',
  '{"topic":"fz","payload":1,"__proto__":{"partition":2}}',
  '{"topic":"fz","records":{"length":1,"0":{"payload":1}}}',
  '[]',
  'null',
  '"fz"',
  '{',
  '',
);

const BAD_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xfe, 0xfe]];

/** A JSON text turned into bytes, sometimes broken: bad UTF-8 spliced in, truncated, garbage after. */
const mutatedBytes = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(
      text,
      fc.oneof(
        { weight: 6, arbitrary: fc.constant<{ kind: 'none' }>({ kind: 'none' }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('utf8' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.constantFrom(...BAD_UTF8) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('tail' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
      ),
    )
    .map(([t, m]) => {
      const b = Buffer.from(t, 'utf8');
      if (m.kind === 'none') return b;
      if (m.kind === 'tail') return Buffer.concat([b, Buffer.from(m.bytes)]);
      const at = Math.floor(m.at * b.length);
      if (m.kind === 'cut') return b.subarray(0, at);
      return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    });

export const contentTypeArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      'text/plain',
      'application/json; charset=latin1',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '*/*',
      'application/json;;;',
      'x'.repeat(2000),
    ),
  },
);

export const produceCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constant('/produce'), mutatedBytes(produceObj.map((o) => JSON.stringify(o)))) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('/produce'), mutatedBytes(validishObj.map((o) => JSON.stringify(o)))) },
      { weight: 1, arbitrary: fc.tuple(fc.constant('/produce/batch'), mutatedBytes(fc.array(validishObj, { minLength: 1, maxLength: 10 }).map((rs) => JSON.stringify({ topic: rs[0]!.topic, records: rs.map(({ topic: _t, ...r }) => r) })))) },
      { weight: 3, arbitrary: fc.tuple(fc.constant('/produce/batch'), mutatedBytes(batchObj.map((o) => JSON.stringify(o)))) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('/produce', '/produce/batch'), mutatedBytes(fc.jsonValue().map((v) => JSON.stringify(v) ?? ''))) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('/produce', '/produce/batch'), literalBodies.map((s) => Buffer.from(s, 'utf8'))) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('/produce', '/produce/batch', '/topics'), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a))) },
    ),
    contentTypeArb,
  )
  .map(([[path, body], type]): Case => ({ method: 'POST', path, headers: type ? { 'content-type': type } : {}, body }));

const QUERY_NAMES = ['topic', 'partition', 'offset', 'max', 'wait_ms'];
const queryValue = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 20 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '-1', '-0', '0.5', '1.0', '1e3', '0x10', '0b1', ' 1', '1 ', '+1', 'NaN', 'Infinity', '-Infinity', '',
      '9007199254740991', '9007199254740992', '9007199254740993', '99999999999999999999', '1'.repeat(400),
      '10000', '10001', '30000', '30001', '٣', '１',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom(...FUZZ_TOPICS, 'nope', '', '..', 'x'.repeat(300)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
);

/** A valid wait_ms long-polls; the fuzz keeps it short (the long poll has its own tests). */
const capWait = (name: string, value: string) => (name === 'wait_ms' && /^\d+$/.test(value) && Number(value) > 50 && Number(value) <= 30_000 ? '50' : value);

const RAW_ESCAPES = ['%zz', '%ff', '%', '%00', '%C0%80', '%ED%A0%80', '+', '%2B', '&&', '=', '=='];

export const consumeCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...QUERY_NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), queryValue), { maxLength: 9 }),
    fc.option(fc.constantFrom(...RAW_ESCAPES), { freq: 4 }),
    fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD'),
  )
  .map(([pairs, raw, method]) => {
    let q = pairs.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(capWait(n, v))}`).join('&');
    if (raw !== null) q += `&offset=${raw}`;
    const c: Case = { method, path: `/consume?${q}`, headers: {}, body: Buffer.alloc(0) };
    return c;
  });

const PATHS = [
  '/', '/produce/', '/PRODUCE', '//produce', '/produce/../consume', '/%2e%2e/%2e%2e/etc/passwd', '/topics', '/topics/', '/topics/fz',
  '/metadata/leader', '/metadata/cluster', '/metadata', '/health', '/health?x=1', '/metrics', '/metrics?format=prometheus',
  '/metrics?format=xml', '/metrics?format=json&format=prometheus', '/metrics?format[]=json', '/replica/append', '/replica',
  '/consume', '/produce/batch/x', '/favicon.ico', '/%00', '/%ff', '/a?b#c', '/' + 'a'.repeat(8000),
];

export const routeCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'), fc.stringMatching(/^[A-Z]{1,12}$/)),
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PATHS) }, { weight: 1, arbitrary: fc.webPath().map((p) => p || '/') }),
    fc.oneof(fc.constant(Buffer.alloc(0)), fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '', 'utf8'))),
  )
  .filter(([m, p]) => m !== 'CONNECT' && !(m === 'POST' && p === '/replica/append'))
  .map(([method, path, body]): Case => ({ method, path, headers: body.length ? { 'content-type': 'application/json' } : {}, body }));

/** Nested arrays `[[[...]]]` of the given depth, as a value. */
export function nestedArray(depth: number): unknown {
  let v: unknown[] = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

/** A replication frame: u32 header length, header JSON, then whatever bytes follow. */
export function replicaFrame(header: unknown, tail: Uint8Array = new Uint8Array()): Buffer {
  const head = Buffer.from(JSON.stringify(header) ?? '', 'utf8');
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(head.length, 0);
  return Buffer.concat([prefix, head, tail]);
}

/**
 * POST /replica/append with garbage: random bytes, or frames with any epoch (stale, current-looking,
 * far ahead, past what a log stores) and random parts, with no proof or a forged one. None may be
 * obeyed: only frames signed with the current leadership's key are (replication/frame-auth.ts).
 */
export const replicaCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc
        .tuple(
          fc.record(
            {
              epoch: fc.oneof(
                fc.constantFrom(0, -1, 0.5, -1e300, Number.MIN_VALUE, '9', null, true, [], {}, 2 ** 32, 2 ** 32 - 1, 2 ** 53 + 2),
                fc.integer({ max: 0 }),
                fc.integer({ min: 1, max: 50 }),
              ),
              leader: fc.oneof(fc.constant({ id: 'fuzz', url: 'http://127.0.0.1:1' }), wrongType),
              metaVersion: fc.oneof(fc.string(), wrongType),
              topics: fc.oneof(fc.array(fc.record({ name: fc.string(), partitions: numberish })), wrongType),
              parts: fc.oneof(fc.array(fc.record({ topic: topicArb, partition: numberish, prevOffset: numberish, prevEpoch: numberish, hwm: numberish, length: numberish, truncateTo: numberish }, { requiredKeys: [] }), { maxLength: 3 }), wrongType),
            },
            { requiredKeys: [] },
          ),
          fc.uint8Array({ maxLength: 64 }),
        )
        .map(([h, tail]) => replicaFrame(h, tail)),
    ),
    fc.constantFrom('application/octet-stream', 'application/octet-stream', '', 'application/json', 'text/plain'),
    fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: 1, max: 50 }).map((e) => `${e}.${'A'.repeat(43)}`),
      fc.tuple(fc.integer({ min: 1, max: 50 }), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([e, mac]) => `${e}.${Buffer.from(mac).toString('base64url')}`),
      fc.string({ maxLength: 80 }),
    ),
  )
  .map(([body, type, auth]): Case => ({
    method: 'POST',
    path: '/replica/append',
    headers: { ...(type ? { 'content-type': type } : {}), ...(auth !== undefined ? { 'x-yak-frame-auth': auth.replace(/[\r\n]/g, '') } : {}) },
    body,
  }));
