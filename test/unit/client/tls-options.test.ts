import assert from 'node:assert/strict';
import { test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { errorFromFetch } from '../../../broker-runtime/src/client/errors.js';

const failed = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(`${code} happened`), { code }) });

test('a certificate or SSL failure is TLS_FAILED and not retried; a refused connection stays retriable', () => {
  for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'EPROTO']) {
    const err = errorFromFetch(failed(code), 'GET https://b:1/health', 1000);
    assert.equal(err.code, 'TLS_FAILED', code);
    assert.equal(err.retriable, false, code);
    assert.match(err.message, new RegExp(code));
  }
  for (const code of ['ECONNREFUSED', 'ECONNRESET']) {
    const err = errorFromFetch(failed(code), 'GET https://b:1/health', 1000);
    assert.equal(err.code, 'CONNECTION_FAILED', code);
    assert.equal(err.retriable, true, code);
  }
});

test('the client takes cert and key together or not at all', () => {
  assert.throws(() => new YakClient({ brokers: ['https://127.0.0.1:1'], cert: 'PEM' }), /cert and key/);
  assert.throws(() => new YakClient({ brokers: ['https://127.0.0.1:1'], key: 'PEM' }), /cert and key/);
  assert.doesNotThrow(() => new YakClient({ brokers: ['https://127.0.0.1:1'], ca: '-----BEGIN CERTIFICATE-----' }));
});
