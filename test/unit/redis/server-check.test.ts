import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evictionWarning, parseInfo } from '../../../broker-runtime/src/redis/server-check.js';

const info = (maxmemory: number, policy: string) =>
  `# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\n# Memory\r\nused_memory:1000\r\nmaxmemory:${maxmemory}\r\nmaxmemory_human:64.00M\r\nmaxmemory_policy:${policy}\r\n`;

describe('Redis server check', () => {
  test('INFO is read field by field', () => {
    assert.deepEqual(parseInfo(info(67108864, 'allkeys-lru')), { version: '7.0.15', maxmemory: 67108864, policy: 'allkeys-lru' });
  });

  test('only a memory limit with a policy other than noeviction is warned about', () => {
    assert.equal(evictionWarning(parseInfo(info(0, 'allkeys-lru')), 'r'), null);
    assert.equal(evictionWarning(parseInfo(info(67108864, 'noeviction')), 'r'), null);
    for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
      const w = evictionWarning(parseInfo(info(67108864, policy)), 'redis://r:6379');
      assert.ok(w?.includes(`maxmemory 64 MB with maxmemory-policy ${policy}`), w ?? policy);
      assert.ok(w!.includes('noeviction'));
    }
  });
});
