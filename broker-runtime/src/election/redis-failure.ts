/**
 * Why a broker could not use Redis, as one line that also says what to do — the first thing a
 * newcomer who ran `yak-broker` before `redis-server` reads. ioredis reports a refused connection
 * as "Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest"
 * option for details.", which names an option of ours rather than the problem; the connection's
 * own error (ECONNREFUSED, ENOTFOUND) does name it.
 */
const IOREDIS_RETRY_NOISE = /^Reached the max retries per request limit \(which is \d+\)\. Refer to "maxRetriesPerRequest" option for details\.?$/;

/** `failed` is the command's error, `connection` the connection's last error while it is not ready (or null). */
export function describeRedisFailure(failed: string, connection: string | null): string {
  const conn = connection && !failed.includes(connection) ? connection : null;
  const what = conn ? (IOREDIS_RETRY_NOISE.test(failed) ? `cannot connect (${conn})` : `${failed} (connection: ${conn})`) : failed;
  const text = `${failed} ${conn ?? ''}`;
  const advise = (advice: string) => `${what.replace(/\.$/, '')}: ${advice}`;
  if (/ECONNREFUSED/.test(text)) {
    return advise("nothing listens there; start redis-server (see the README's Prerequisites) or point --redis / REDIS_URL at your Redis; retrying until it answers");
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return advise('the host name does not resolve; check --redis / REDIS_URL; retrying');
  // Through Sentinels, a NOAUTH from the Sentinels themselves is their own password, not the master's.
  if (/sentinels are unreachable/i.test(text)) {
    if (/\bNOAUTH\b/.test(text)) return advise('the Sentinels want a password of their own: give --redis-sentinel-password / REDIS_SENTINEL_PASSWORD');
    if (/\bWRONGPASS\b/.test(text)) return advise('the Sentinels refuse --redis-sentinel-password / REDIS_SENTINEL_PASSWORD');
  }
  if (/\bNOAUTH\b/.test(text)) return advise('this Redis wants a password; give it in --redis / REDIS_URL as redis://:PASSWORD@host:port (or redis://USER:PASSWORD@…)');
  if (/\bWRONGPASS\b/.test(text)) return advise('the user or password in --redis / REDIS_URL is not accepted by this Redis');
  return what;
}
