import type { Logger } from '../logger.js';
import { loadAuthFile } from './auth-file.js';
import type { AuthGate } from './gate.js';

/**
 * SIGHUP reads the auth file again, as daemons reload their configuration: principals added,
 * removed or changed take effect without a restart. A file that does not load is not half-used:
 * the previous principals stay in force and the log says why. Reloads never overlap; a SIGHUP
 * during one runs another once it is done, so the last signal always sees the last file.
 */
export function reloadOnSighup(gate: AuthGate, path: string, log: Logger): void {
  let running = false;
  let again = false;
  const reload = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          gate.replace(await loadAuthFile(path));
          log('info', `SIGHUP: reloaded --auth-file ${path}: ${gate.principalCount} principal(s)`);
        } catch (err) {
          log('warn', `SIGHUP: kept the previous principals: --auth-file ${path} ${(err as Error).message}`);
        }
      } while (again);
    } finally {
      running = false;
    }
  };
  process.on('SIGHUP', () => void reload());
}
