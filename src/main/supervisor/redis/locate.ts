import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type RedisLocation = { found: true; path: string } | { found: false; problem: string };

/** What the UI and the terminal say when there is no redis-server: what to install, or what to set. */
export function redisMissingText(detail: string): string {
  return (
    `redis-server was not found (${detail}). ` +
    'Install it — Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis` — ' +
    'or set REDIS_SERVER_BIN to its path, or give an external Redis URL in the settings ' +
    '(externalRedisUrl, for example redis://127.0.0.1:6379).'
  );
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** REDIS_SERVER_BIN wins (and is not second-guessed: a wrong one is reported, not skipped); then PATH. */
export function locateRedisServer(env: NodeJS.ProcessEnv): RedisLocation {
  const explicit = env['REDIS_SERVER_BIN'];
  if (explicit) {
    return isExecutableFile(explicit)
      ? { found: true, path: explicit }
      : { found: false, problem: redisMissingText(`REDIS_SERVER_BIN=${explicit} is not an executable file`) };
  }
  const names = process.platform === 'win32' ? ['redis-server.exe'] : ['redis-server'];
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = join(dir, name);
      if (isExecutableFile(candidate)) return { found: true, path: candidate };
    }
  }
  return { found: false, problem: redisMissingText('not on PATH and REDIS_SERVER_BIN is not set') };
}
