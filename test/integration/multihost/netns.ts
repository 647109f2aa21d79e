import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { atMost } from '../../../testkit/wait.js';

/**
 * A private network of network namespaces for the multi-host test: one namespace per "host", each
 * with one veth (`eth0`, 10.77.0.x/24) whose other end sits on a bridge inside a namespace of its
 * own. Nothing is added to the namespace the test runs in, so no test traffic leaves the namespaces
 * made here, and deleting them removes everything.
 */

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Why namespaces cannot be made here (not root, no iproute2, a container without the capability), or null. */
export function namespacesUnavailable(): string | null {
  const probe = `yakprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error) return `network namespaces unavailable: cannot run ip (${r.error.message}; install iproute2)`;
  if (r.status !== 0) return `network namespaces unavailable: 'ip netns add' failed (${r.stderr.trim()}); run as root with CAP_SYS_ADMIN`;
  const veth = spawnSync('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', probe]);
  if (veth.status !== 0) return `network namespaces unavailable: cannot make a veth pair (${veth.stderr.trim()})`;
  return null;
}

const TC = '/usr/sbin/tc';

function tc(args: string[]): void {
  const r = spawnSync(TC, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tc ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Which of the queueing disciplines the slow-link test can use does this kernel lack? null = both there. */
export function qdiscsUnavailable(): { netem: string | null; tbf: string | null } {
  const probe = `yakqd${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (made.status !== 0) return { netem: 'no network namespaces', tbf: 'no network namespaces' };
  try {
    spawnSync('ip', ['-n', probe, 'link', 'add', 'q0', 'type', 'veth', 'peer', 'name', 'q1']);
    const tryQdisc = (args: string[]) => {
      const r = spawnSync(TC, ['-n', probe, 'qdisc', 'replace', 'dev', 'q0', 'root', ...args], { encoding: 'utf8' });
      return r.error ? `cannot run ${TC} (${r.error.message}; install iproute2)` : r.status !== 0 ? `tc qdisc ${args[0]}: ${r.stderr.trim()}` : null;
    };
    return { netem: tryQdisc(['netem', 'delay', '1ms']), tbf: tryQdisc(['tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '400ms']) };
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
}

export class Network {
  readonly bridgeNs: string;
  private readonly hosts = new Map<string, string>();
  private readonly procs = new Set<ChildProcess>();
  private exitHook = () => this.destroySync();

  constructor(private readonly prefix = `ymh${process.pid % 100000}`) {
    this.bridgeNs = `${prefix}-br`;
    process.once('exit', this.exitHook);
  }

  /** The bridge namespace; must come first. */
  create(): void {
    ip(['netns', 'add', this.bridgeNs]);
    ip(['-n', this.bridgeNs, 'link', 'set', 'lo', 'up']);
    ip(['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
  }

  /** A host `name` at 10.77.0.`octet`, on the bridge. */
  addHost(name: string, octet: number): string {
    const ns = `${this.prefix}-${name}`;
    ip(['netns', 'add', ns]);
    this.hosts.set(name, ns);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', this.bridgeNs, 'link', 'add', this.port(name), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    ip(['-n', this.bridgeNs, 'link', 'set', this.port(name), 'master', 'br0', 'up']);
    ip(['-n', ns, 'addr', 'add', `10.77.0.${octet}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    return ns;
  }

  ns(name: string): string {
    const ns = this.hosts.get(name);
    if (!ns) throw new Error(`no host ${name}`);
    return ns;
  }

  private port(name: string): string {
    return `v-${name}`;
  }

  /** Unplug a host's cable (its bridge port down): it reaches no one and no one reaches it. */
  cut(name: string): void {
    ip(['-n', this.bridgeNs, 'link', 'set', this.port(name), 'down']);
  }

  heal(name: string): void {
    ip(['-n', this.bridgeNs, 'link', 'set', this.port(name), 'up']);
  }

  /** Drop every packet between two hosts (a black-hole route on each side), the rest of the network untouched. */
  cutBetween(a: string, aIp: string, b: string, bIp: string): void {
    ip(['-n', this.ns(a), 'route', 'add', 'blackhole', `${bIp}/32`]);
    ip(['-n', this.ns(b), 'route', 'add', 'blackhole', `${aIp}/32`]);
  }

  healBetween(a: string, aIp: string, b: string, bIp: string): void {
    ip(['-n', this.ns(a), 'route', 'del', 'blackhole', `${bIp}/32`]);
    ip(['-n', this.ns(b), 'route', 'del', 'blackhole', `${aIp}/32`]);
  }

  /**
   * Limit a host's link to `rate` (tc's units: `1mbit`) both ways with a token bucket (tbf) on each
   * end of its veth: the bridge's port (towards the host) and the host's eth0 (from it). A queue
   * longer than 400 ms is dropped, as a real bottleneck's is.
   */
  limitRate(name: string, rate: string): void {
    const spec = ['tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms'];
    tc(['-n', this.bridgeNs, 'qdisc', 'replace', 'dev', this.port(name), 'root', ...spec]);
    tc(['-n', this.ns(name), 'qdisc', 'replace', 'dev', 'eth0', 'root', ...spec]);
  }

  unlimitRate(name: string): void {
    tc(['-n', this.bridgeNs, 'qdisc', 'del', 'dev', this.port(name), 'root']);
    tc(['-n', this.ns(name), 'qdisc', 'del', 'dev', 'eth0', 'root']);
  }

  /** Run `command` inside host `name`'s namespace (`ip netns exec` execs it: the pid is the command's). */
  spawn(name: string, command: string, args: string[], onLine?: (line: string) => void): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.ns(name), command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.procs.add(p);
    p.on('exit', () => this.procs.delete(p));
    if (onLine) {
      for (const s of [p.stdout!, p.stderr!]) createInterface({ input: s }).on('line', onLine);
    }
    return p;
  }

  /** Kill every process started here, then delete every namespace (the veths and the bridge go with them). */
  async destroy(): Promise<void> {
    const exits = [...this.procs].map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r))));
    for (const p of this.procs) p.kill('SIGKILL');
    await atMost(Promise.all(exits), 3000);
    this.destroySync();
  }

  private destroySync(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    for (const ns of [...this.hosts.values(), this.bridgeNs]) spawnSync('ip', ['netns', 'del', ns]);
    this.hosts.clear();
    process.removeListener('exit', this.exitHook);
  }
}

const AGENT = fileURLToPath(new URL('./agent.ts', import.meta.url));

/** An agent (agent.ts) inside a host: the test's hands there. */
export class Agent {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;

  constructor(net: Network, host: string) {
    const p = net.spawn(host, process.execPath, ['--import', 'tsx', AGENT]);
    let readyResolve = () => {};
    this.ready = new Promise((r) => (readyResolve = r));
    createInterface({ input: p.stdout! }).on('line', (line) => {
      let msg: { id: number; ok: boolean; result?: unknown; error?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.id === 0) return readyResolve();
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.ok) w?.resolve(msg.result);
      else w?.reject(new Error(`agent in ${host}: ${msg.error}`));
    });
    p.stderr!.on('data', (d: Buffer) => process.stderr.write(`[agent ${host}] ${d}`));
    this.proc = p;
  }

  private readonly proc: ChildProcess;

  call<T = any>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.stdin!.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  /** GET/POST through the agent; the answer, or `{error}` when there was none. */
  http<T = any>(url: string, method = 'GET', body?: unknown, timeoutMs = 3000): Promise<{ status?: number; body?: T; error?: string }> {
    return this.call('http', { url, method, body, timeoutMs });
  }
}
