import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DESKTOP_CLUSTER_ID } from './specs.js';

/** Deletes the brokers' logs and the embedded Redis's files — only the folders we created. */
export async function wipeDataFolders(dataDir: string): Promise<void> {
  await rm(join(dataDir, 'brokers'), { recursive: true, force: true });
  await rm(join(dataDir, 'redis'), { recursive: true, force: true });
}

/**
 * With an external Redis the cluster's state lives there: delete the desktop cluster's keys
 * (and only those: every key the brokers use starts with `{<cluster>}:`, `<cluster>:` before
 * versions with hash tags), or a wiped cluster would come back believing in an in-sync set whose
 * logs are gone.
 */
export async function wipeExternalRedis(redisUrl: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  try {
    await redis.connect();
    let deleted = 0;
    // SCAN's MATCH is a glob: `{` and `}` are plain characters in it.
    for (const pattern of [`{${DESKTOP_CLUSTER_ID}}:*`, `${DESKTOP_CLUSTER_ID}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length) deleted += await redis.del(...keys);
      } while (cursor !== '0');
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}
