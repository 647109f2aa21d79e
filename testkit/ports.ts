import net from 'node:net';
import { readFileSync } from 'node:fs';

/**
 * Ports below the OS's ephemeral range: a listen(0) or an outgoing connection (which take their
 * ports from that range) can never land on a port handed out here but not yet bound by the broker
 * it is meant for. CI once lost a chaos run to exactly that: a proxy's listen(0) took a broker's port.
 */
const RANGE = ((): { low: number; high: number } => {
  try {
    const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (ephemeralLow && ephemeralLow > 12_000) return { low: 10_000, high: ephemeralLow - 1 };
  } catch {
    // not Linux: fall back to the OS's choice below
  }
  return { low: 0, high: 0 };
})();

/**
 * Test files that run side by side (scripts/run-tests.mjs --jobs) are separate processes, each
 * with its own `handedOut`: the runner gives each concurrent slot its own share of the range, so two
 * files never pick the same port and race to bind it.
 */
const SLICE = ((): { low: number; high: number } => {
  const slot = Number(process.env.YAK_TEST_PORT_SLOT ?? 0);
  const slots = Number(process.env.YAK_TEST_PORT_SLOTS ?? 1);
  if (RANGE.high <= RANGE.low || !Number.isInteger(slots) || slots < 2 || !Number.isInteger(slot) || slot < 0 || slot >= slots) return RANGE;
  const size = Math.floor((RANGE.high - RANGE.low + 1) / slots);
  return { low: RANGE.low + slot * size, high: RANGE.low + (slot + 1) * size - 1 };
})();

/** Ports this process handed out: never twice, even if the first is not bound yet. */
const handedOut = new Set<number>();

function bindable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : null));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = SLICE.high > SLICE.low ? SLICE.low + Math.floor(Math.random() * (SLICE.high - SLICE.low + 1)) : 0;
    if (handedOut.has(candidate)) continue;
    const port = await bindable(candidate);
    if (port === null || handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free TCP port found on 127.0.0.1');
}
