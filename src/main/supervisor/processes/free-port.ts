import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface PortRange {
  low: number;
  high: number;
}

/** Where Linux says which local ports outgoing connections and listen(0) take ("32768\t60999"). */
export const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';

/** The lowest port the app picks: above the well-known and most registered services' ports. */
const APP_LOW = 10_000;

/**
 * The ports the app gives its brokers and Redis: those below the OS's ephemeral range, which
 * outgoing connections (the app's own, a browser's, other programs') take their local port from.
 * A broker's port inside that range can be taken by any connection while the broker is down, and
 * its restart on the same port then fails. Null when the range is unknown (not Linux) or leaves
 * no room below it: then the OS picks (listen(0)), as before.
 */
export function portRangeBelow(ephemeralRangeText: string): PortRange | null {
  const [low] = ephemeralRangeText.trim().split(/\s+/).map(Number);
  if (low === undefined || !Number.isInteger(low) || low - 1 < APP_LOW + 1000) return null;
  return { low: APP_LOW, high: low - 1 };
}

export function readAppPortRange(file = EPHEMERAL_RANGE_FILE): PortRange | null {
  try {
    return portRangeBelow(readFileSync(file, 'utf8'));
  } catch {
    return null; // no /proc (macOS, Windows): the OS's choice
  }
}

/**
 * YAK_PORT_RANGE=low-high picks the app's ports there instead: npm test gives the UI suite's web
 * host a share of the range that the integration files running beside it never hand out. Null when
 * unset; a malformed value is an error, not a silent fallback.
 */
export function portRangeFromEnv(text: string | undefined): PortRange | null {
  if (text === undefined || text === '') return null;
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const low = m ? Number(m[1]) : NaN;
  const high = m ? Number(m[2]) : NaN;
  if (!(low >= 1024 && high <= 65_535 && low <= high)) throw new Error(`YAK_PORT_RANGE must be LOW-HIGH within 1024-65535 (got ${JSON.stringify(text)})`);
  return { low, high };
}

const APP_RANGE = portRangeFromEnv(process.env.YAK_PORT_RANGE) ?? readAppPortRange();

/** Whether 127.0.0.1:port can be listened on right now (as the broker or redis-server will). */
export function portIsFree(port: number): Promise<boolean> {
  return listenOnce(port).then((p) => p === port);
}

/**
 * A loopback port nobody listens on right now: a random one of `range` (below the ephemeral
 * ports), or the OS's choice without one. `taken` keeps the ports already handed to this cluster
 * out, since a process we just spawned may not be listening yet.
 */
export async function freePort(taken: ReadonlySet<number> = new Set(), range: PortRange | null = APP_RANGE): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = range ? range.low + Math.floor(Math.random() * (range.high - range.low + 1)) : 0;
    if (taken.has(candidate)) continue;
    const port = await listenOnce(candidate);
    if (port !== null && port > 0 && !taken.has(port)) return port;
  }
  // A range so full that 50 picks failed: the OS's choice beats no cluster at all.
  if (range) return freePort(taken, null);
  throw new Error('could not find a free loopback port');
}

/** Listens on 127.0.0.1:port (0: the OS picks) and closes again; the port, or null if it is in use. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}
