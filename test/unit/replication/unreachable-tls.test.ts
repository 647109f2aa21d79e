import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unreachableReason } from '../../../broker-runtime/src/replication/unreachable.js';

const err = (code: string) => Object.assign(new Error(code), { code });

test('TLS failures to reach a follower are named with their fix, not left at debug level', () => {
  const untrusted = unreachableReason(err('SELF_SIGNED_CERT_IN_CHAIN'), 'https://b.example:5001');
  assert.equal(untrusted?.kind, 'tls-untrusted');
  assert.match(untrusted!.why, /--tls-ca \(TLS_CA\)/);
  assert.equal(unreachableReason(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'https://b:1')?.kind, 'tls-untrusted');
  assert.match(unreachableReason(err('ERR_TLS_CERT_ALTNAME_INVALID'), 'https://b.example:5001')!.why, /does not name b\.example/);
  assert.match(unreachableReason(err('EPROTO'), 'https://b:1')!.why, /without --tls-cert/);
  assert.equal(unreachableReason(err('CERT_HAS_EXPIRED'), 'https://b:1')?.kind, 'tls-expired');
  assert.equal(unreachableReason(err('SOMETHING_ELSE'), 'https://b:1'), null);
});
