import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { driftLines } from '../../../broker-runtime/src/broker/settings-drift.js';

describe('settings that differ between brokers', () => {
  const self = { id: 'a', settings: { min_insync: '2', auth_file: 'sha256:aa', tls: 'https' } };

  test('one line per difference, once, naming the peer, the flag and both values', () => {
    const warned = new Set<string>();
    const peers = [
      { id: 'b', alive: true, settings: { min_insync: '1', auth_file: 'sha256:bb', tls: 'https' } },
      { id: 'c', alive: true, settings: { min_insync: '2', auth_file: 'sha256:aa', tls: 'https' } },
    ];
    const lines = driftLines(self, peers, warned);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^broker b runs with --min-insync 1, this broker \(a\) with 2: .*MIN_INSYNC_REPLICAS/);
    assert.match(lines[1]!, /^broker b runs with --auth-file sha256:bb, this broker \(a\) with sha256:aa: .*refused \(401\/403\).*\(AUTH_FILE\) file/);
    assert.deepEqual(driftLines(self, peers, warned), []);
    // A change is a new difference.
    assert.equal(driftLines(self, [{ id: 'b', alive: true, settings: { min_insync: '3' } }], warned).length, 1);
  });

  test('dead brokers, this one, and brokers that register no settings (an older version) are skipped', () => {
    const peers = [
      { id: 'a', alive: true, settings: { min_insync: '9' } },
      { id: 'd', alive: false, settings: { min_insync: '9' } },
      { id: 'e', alive: true },
    ];
    assert.deepEqual(driftLines(self, peers, new Set()), []);
  });
});
