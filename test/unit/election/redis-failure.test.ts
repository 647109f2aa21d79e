import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRedisFailure } from '../../../broker-runtime/src/election/redis-failure.js';

// What ioredis says (5.x) when a command fails while the connection is refused, as a broker
// started before redis-server logged it.
const IOREDIS = 'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.';

test('a refused connection says nothing listens and what to do, without ioredis\'s option noise', () => {
  const line = describeRedisFailure(IOREDIS, 'connect ECONNREFUSED 127.0.0.1:6379');
  assert.equal(
    line,
    'cannot connect (connect ECONNREFUSED 127.0.0.1:6379): nothing listens there; start redis-server (see the README\'s Prerequisites) or point --redis / REDIS_URL at your Redis; retrying until it answers',
  );
  assert.doesNotMatch(line, /maxRetriesPerRequest/);
});

test('a host name that does not resolve names --redis', () => {
  assert.match(describeRedisFailure(IOREDIS, 'getaddrinfo ENOTFOUND redis.invalid'), /^cannot connect \(getaddrinfo ENOTFOUND redis\.invalid\): the host name does not resolve; check --redis \/ REDIS_URL/);
});

test('a Redis that wants a password, or refuses the one given, says where the password goes', () => {
  assert.match(describeRedisFailure('NOAUTH Authentication required.', null), /^NOAUTH Authentication required: this Redis wants a password; give it in --redis \/ REDIS_URL as redis:\/\/:PASSWORD@host:port/);
  assert.match(
    describeRedisFailure('Command timed out', 'All sentinels are unreachable. Last error: NOAUTH Authentication required.'),
    /^Command timed out \(connection: All sentinels are unreachable\. Last error: NOAUTH Authentication required\.\): the Sentinels want a password of their own: give --redis-sentinel-password \/ REDIS_SENTINEL_PASSWORD$/,
  );
  assert.match(describeRedisFailure('Command timed out', 'All sentinels are unreachable. Last error: WRONGPASS invalid username-password pair'), /: the Sentinels refuse --redis-sentinel-password \/ REDIS_SENTINEL_PASSWORD$/);
  assert.match(describeRedisFailure('WRONGPASS invalid username-password pair or user is disabled.', null), /: the user or password in --redis \/ REDIS_URL is not accepted by this Redis$/);
});

test('other failures keep their own words (and the connection\'s, when it adds something)', () => {
  assert.equal(describeRedisFailure('Command timed out', 'read ETIMEDOUT'), 'Command timed out (connection: read ETIMEDOUT)');
  assert.equal(describeRedisFailure('connect ECONNREFUSED 127.0.0.1:6379', 'connect ECONNREFUSED 127.0.0.1:6379').startsWith('connect ECONNREFUSED 127.0.0.1:6379: nothing listens there'), true);
});
