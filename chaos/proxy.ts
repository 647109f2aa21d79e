import net from 'node:net';

/**
 * A TCP proxy the harness controls: brokers reach each other and Redis only through proxies, so a
 * network fault is a mode change here. Modes apply per source (which process connected, see
 * socket-owner.ts), so a cut can be one-way or between two brokers only.
 *
 *  - ok:        bytes flow.
 *  - drop:      connections are reset, new ones refused: the peer sees errors at once.
 *  - blackhole: connections stay open but nothing is forwarded; what arrives is held and
 *               delivered late when the cut heals (TCP retransmitting after a partition), unless a
 *               side gave up and closed first. The peer sees only timeouts.
 *  - delay:     every chunk is forwarded `ms` later, in order. With `stall`, a chunk is held
 *               `stall.ms` longer with probability `stall.probability`, and every later chunk
 *               behind it: what a TCP stream sees of a lost segment (retransmitted one RTO later,
 *               nothing after it delivered before it), for where the kernel has no netem.
 */
export type LinkMode =
  | { kind: 'ok' }
  | { kind: 'drop' }
  | { kind: 'blackhole' }
  | { kind: 'delay'; ms: number; stall?: { probability: number; ms: number } };

export const OK: LinkMode = { kind: 'ok' };
/** The name of connections whose owner is not one of the known processes (clients, the harness). */
export const ANYONE_ELSE = 'client';
const ALL = '*';

export interface ProxyOptions {
  name: string;
  targetPort: number;
  /** Where the target listens; 127.0.0.1 unless given (the multi-host test proxies to another namespace). */
  targetHost?: string;
  /** The address to listen on; 127.0.0.1 unless given (the multi-host test's link proxies listen on a host's own address). */
  listenHost?: string;
  /** Who opened a connection (a broker id), from the accepted socket's remote port; undefined = anyone else. */
  identify?: (remotePort: number, listenPort: number) => Promise<string | undefined>;
}

type Direction = 'up' | 'down';

/** One proxied connection: `down` is the accepted socket, `up` the one to the target. */
class Link {
  private readonly queues: Record<Direction, { due: number; chunk: Buffer }[]> = { up: [], down: [] };
  private readonly timers: Record<Direction, NodeJS.Timeout | null> = { up: null, down: null };
  private readonly ended: Record<Direction, boolean> = { up: false, down: false };
  private closed = false;

  constructor(
    readonly source: string,
    private readonly down: net.Socket,
    private readonly up: net.Socket,
    private readonly modeOf: () => LinkMode,
    private readonly onClose: (link: Link) => void,
  ) {
    down.on('data', (c: Buffer) => this.send('up', c));
    up.on('data', (c: Buffer) => this.send('down', c));
    down.on('end', () => this.end('up'));
    up.on('end', () => this.end('down'));
    for (const s of [down, up]) {
      s.on('error', () => this.destroy());
      s.on('close', () => this.destroy());
    }
    this.apply();
  }

  /** The mode changed (or the link is new): act on it. */
  apply(): void {
    if (this.closed) return;
    const mode = this.modeOf();
    if (mode.kind === 'drop') return this.destroy(true);
    if (mode.kind === 'blackhole') {
      // Stop reading too, so the senders' kernel buffers fill like on a dead route.
      this.down.pause();
      this.up.pause();
      return;
    }
    this.down.resume();
    this.up.resume();
    this.pump('up');
    this.pump('down');
  }

  destroy(reset = false): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of ['up', 'down'] as const) if (this.timers[d]) clearTimeout(this.timers[d]);
    for (const s of [this.down, this.up]) {
      if (reset && typeof s.resetAndDestroy === 'function' && !s.destroyed && s.readyState === 'open') s.resetAndDestroy();
      else s.destroy();
    }
    this.onClose(this);
  }

  private target(dir: Direction): net.Socket {
    return dir === 'up' ? this.up : this.down;
  }

  private send(dir: Direction, chunk: Buffer): void {
    const mode = this.modeOf();
    let due = Date.now();
    if (mode.kind === 'delay') due += mode.ms + (mode.stall && Math.random() < mode.stall.probability ? mode.stall.ms : 0);
    this.queues[dir].push({ due, chunk });
    this.pump(dir);
  }

  private end(dir: Direction): void {
    this.ended[dir] = true;
    this.pump(dir);
  }

  /** Write every queued chunk that is due, in order; wait for the rest. */
  private pump(dir: Direction): void {
    if (this.closed || this.modeOf().kind === 'blackhole') return;
    const q = this.queues[dir];
    const now = Date.now();
    while (q.length > 0 && q[0]!.due <= now) this.target(dir).write(q.shift()!.chunk);
    if (this.timers[dir]) clearTimeout(this.timers[dir]);
    this.timers[dir] = null;
    if (q.length > 0) this.timers[dir] = setTimeout(() => this.pump(dir), q[0]!.due - now);
    else if (this.ended[dir]) this.target(dir).end();
  }
}

export class TcpProxy {
  private readonly rules = new Map<string, LinkMode>();
  private readonly links = new Set<Link>();
  private readonly pending = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly opts: ProxyOptions,
  ) {}

  static async start(opts: ProxyOptions, port = 0): Promise<TcpProxy> {
    const server = net.createServer({ pauseOnConnect: true });
    const bound = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, opts.listenHost ?? '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
    const proxy = new TcpProxy(server, bound, opts);
    server.on('connection', (s) => void proxy.accept(s));
    return proxy;
  }

  /** The mode for connections from `source` (a broker id, or ANYONE_ELSE). */
  modeFor(source: string): LinkMode {
    return this.rules.get(source) ?? this.rules.get(ALL) ?? OK;
  }

  /** Set the mode for these sources ('*': everyone without a rule of their own) and apply it to open connections. */
  set(mode: LinkMode, sources: readonly string[] | '*' = '*'): void {
    for (const s of sources === '*' ? [ALL] : sources) {
      if (mode.kind === 'ok') this.rules.delete(s);
      else this.rules.set(s, mode);
    }
    this.applyAll();
  }

  /** Every source back to ok; held bytes are delivered. */
  heal(): void {
    this.rules.clear();
    this.applyAll();
  }

  /** Reset every open connection (the way a crashed process's connections end). */
  resetAll(): void {
    for (const l of [...this.links]) l.destroy(true);
  }

  describe(): string {
    return this.rules.size === 0 ? 'ok' : [...this.rules].map(([s, m]) => `${s}:${m.kind}${m.kind === 'delay' ? m.ms + (m.stall ? `~${m.stall.probability}x${m.stall.ms}` : '') : ''}`).join(',');
  }

  async close(): Promise<void> {
    for (const s of this.pending) s.destroy();
    for (const l of [...this.links]) l.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private applyAll(): void {
    for (const l of [...this.links]) l.apply();
  }

  private async accept(down: net.Socket): Promise<void> {
    down.on('error', () => down.destroy());
    this.pending.add(down);
    let source = ANYONE_ELSE;
    try {
      if (this.opts.identify && down.remotePort) source = (await this.opts.identify(down.remotePort, this.port)) ?? ANYONE_ELSE;
    } catch {
      // unknown owner: treated as anyone else
    }
    this.pending.delete(down);
    if (down.destroyed) return;
    if (this.modeFor(source).kind === 'drop') {
      down.resetAndDestroy();
      return;
    }
    const up = net.connect(this.opts.targetPort, this.opts.targetHost ?? '127.0.0.1');
    up.setNoDelay(true);
    down.setNoDelay(true);
    const link = new Link(source, down, up, () => this.modeFor(source), (l) => this.links.delete(l));
    this.links.add(link);
  }
}
