import { SimBroker } from './broker.js';
import { Checker, type Watched } from './checker.js';
import type { SimConfig } from './config.js';
import { Disk } from './disk.js';
import { Network } from './network.js';
import { FakeRedis } from './redis.js';
import { Rng } from '../../testkit/rng.js';
import { TransportError } from '../../broker-runtime/src/replication/transport.js';
import { TimeoutError, type Runtime } from './runtime.js';
import { ANY, Scheduler, type SimEvent } from './scheduler.js';
import { Trace } from './trace.js';

/** One broker machine: its disk outlives its processes; `inc` counts the processes. */
export class Proc {
  inc = 0;
  up = false;
  paused = false;
  /** SIGTERM sent, the process is still releasing its lease; a restart asked meanwhile waits for the exit. */
  stopping = false;
  restartAfterExit = false;
  deferred: SimEvent[] = [];
  broker: SimBroker | null = null;
  readonly disk: Disk;

  constructor(
    readonly id: string,
    partitions: number,
    /** Clock rate against Redis's (1 ± drift) and an arbitrary origin, as performance.now has. */
    readonly rate: number,
    readonly origin: number,
  ) {
    this.disk = new Disk(partitions);
  }
}

/** A simulated replication stream: one TCP connection from a leader process to a follower. */
interface SimStream {
  /** Names the connection's direction keys for in-order delivery. */
  id: number;
  broken: boolean;
  /** The follower process the first frame reached: another one (a restart) means a reset. */
  targetInc: number | null;
  /** Frames in flight on it: a reset fails them all. */
  pending: Set<(err: Error) => void>;
}

/**
 * The simulated cluster: brokers on fake machines, a fake Redis, a fake network, a client, all
 * driven by one scheduler from one seed. Faults are applied through the methods below.
 */
export class World {
  readonly sched = new Scheduler();
  readonly rng: Rng;
  readonly net: Network;
  readonly redis: FakeRedis;
  readonly procs = new Map<string, Proc>();
  readonly checker: Checker;
  readonly trace: Trace;
  steps = 0;
  private clientSeq = 0;
  private clientInflight = 0;
  private leaderHint: string | null = null;
  clientOn = true;
  /** Open replication streams by `from#inc>to` (only when cfg.streams > 1). */
  private readonly streams = new Map<string, SimStream>();
  private streamSeq = 0;

  constructor(
    readonly cfg: SimConfig,
    traceAll: boolean,
  ) {
    this.rng = new Rng(cfg.seed);
    this.trace = new Trace(traceAll, () => this.sched.now);
    this.net = new Network(this.sched, this.rng.fork(), cfg.net);
    this.redis = new FakeRedis(() => this.sched.now);
    this.checker = new Checker(cfg.partitions, () => ({ at: this.sched.now, step: this.steps }));
    for (const id of cfg.nodes) {
      const rate = 1 + this.rng.float(-cfg.clockDrift, cfg.clockDrift);
      this.procs.set(id, new Proc(id, cfg.partitions, rate, this.rng.float(0, 1e6)));
    }
  }

  start(): void {
    for (const p of this.procs.values()) this.boot(p);
    this.clientLoop();
  }

  /** Run one event; false when nothing is left. The caller drains microtasks before the next. */
  step(): boolean {
    const ev = this.sched.pop();
    if (!ev) return false;
    this.steps++;
    if (ev.cancelled) return true;
    if (ev.owner !== null && ev.owner !== 'client') {
      const p = this.procs.get(ev.owner)!;
      if (ev.inc !== ANY && (ev.inc !== p.inc || !p.up)) return true;
      if (p.paused) {
        p.deferred.push(ev);
        return true;
      }
    }
    ev.fn();
    return true;
  }

  live(): Watched[] {
    const out: Watched[] = [];
    for (const p of this.procs.values()) if (p.up && p.broker) out.push({ id: p.id, key: `${p.id}#${p.inc}`, broker: p.broker });
    return out;
  }

  // ---- processes

  private boot(p: Proc): void {
    p.up = true;
    p.paused = false;
    const inc = p.inc;
    const rt = this.runtime(p, inc);
    p.broker = new SimBroker(
      rt,
      p.disk,
      {
        id: p.id,
        leaseMs: this.cfg.leaseMs,
        renewMs: this.cfg.renewMs,
        replicaLagMs: this.cfg.replicaLagMs,
        minInsync: this.cfg.minInsync,
        uncleanElection: false,
        produceTimeoutMs: this.cfg.produceTimeoutMs,
        fsyncIntervalMs: this.cfg.fsyncIntervalMs,
        maxEntries: this.cfg.maxEntries,
        mutation: this.cfg.mutation,
      },
      {
        elected: (node, epoch, mode) => this.checker.elected(node, epoch, p.broker!, mode === 'recover' ? this.recoveryGuarded() : true),
        acked: (node, partition, offset, value) => this.checker.acked_(node, partition, offset, value),
        refused: (_node, value, appended) => this.checker.refused(value, appended),
      },
    );
    this.trace.add(`${p.id} starts (process ${inc}); logs end at [${p.broker.logs.map((l) => l.logEndOffset()).join(', ')}], hwm [${p.broker.logs.map((l) => l.highWatermark()).join(', ')}]`);
    p.broker.start();
  }

  crash(p: Proc, why = 'SIGKILL'): void {
    if (!p.up) return;
    this.trace.add(`${p.id} ${why}`);
    p.stopping = false;
    p.restartAfterExit = false;
    p.up = false;
    p.paused = false;
    p.deferred = [];
    p.broker = null;
    p.inc++;
  }

  restart(p: Proc): void {
    if (p.stopping) p.restartAfterExit = true;
    if (p.up) return;
    this.boot(p);
  }

  /** SIGTERM: the broker releases its lease, then the process ends. */
  sigterm(p: Proc): void {
    if (!p.up || !p.broker || p.paused) return;
    this.trace.add(`${p.id} SIGTERM`);
    const inc = p.inc;
    p.stopping = true;
    void p.broker.stop().then((released) => {
      if (released) this.publishRelease();
      if (p.inc !== inc) return;
      const again = p.restartAfterExit;
      this.crash(p, 'exits after SIGTERM');
      if (again) this.boot(p);
    });
  }

  pause(p: Proc): void {
    if (!p.up || p.paused) return;
    this.trace.add(`${p.id} SIGSTOP`);
    p.paused = true;
  }

  resume(p: Proc): void {
    if (!p.up || !p.paused) return;
    this.trace.add(`${p.id} SIGCONT (${p.deferred.length} events were waiting)`);
    p.paused = false;
    const waiting = p.deferred;
    p.deferred = [];
    for (const ev of waiting) if (!ev.cancelled) this.sched.requeue(ev);
  }

  powerLoss(p: Proc): void {
    this.crash(p, 'loses power');
    const lost = p.disk.powerLoss();
    this.trace.add(`${p.id} lost its unflushed tail from [${lost.map((x) => (x.length ? x[0]!.offset : '-')).join(', ')}]`);
    this.checker.powerLoss(lost);
  }

  /** The in-sync set Redis held when it last lost its data. */
  isrBeforeRedisLoss: string[] | null = null;

  /**
   * A recovery election (Redis lost its in-sync set) is covered by the guarantees only while an
   * in-sync replica "survives": one of the set Redis lost is running, awake and reaching Redis.
   * Otherwise the brokers cannot know who had the committed records.
   */
  recoveryGuarded(): boolean {
    const members = this.isrBeforeRedisLoss;
    if (!members) return true;
    return members.some((id) => {
      const p = this.procs.get(id);
      return p !== undefined && p.up && !p.paused && !this.net.isCut(id, 'redis');
    });
  }

  // ---- the runtime a broker process sees

  private runtime(p: Proc, inc: number): Runtime {
    return {
      id: p.id,
      now: () => p.origin + this.sched.now * p.rate,
      timer: (ms, fn) => {
        const ev = this.sched.after(Math.max(0, ms) / p.rate, fn, p.id, inc);
        return { cancel: () => (ev.cancelled = true) };
      },
      redis: (op, timeoutMs) => this.redisCall(p, inc, op, timeoutMs),
      post: (to, frame, auth, timeoutMs) => (this.cfg.streams > 1 ? this.postOnStream(p, inc, to, frame, auth, timeoutMs) : this.post(p, inc, to, frame, auth, timeoutMs)),
      inFlightLimit: (to) => {
        const s = this.streams.get(`${p.id}#${inc}>${to}`);
        return this.cfg.streams > 1 && s && !s.broken ? this.cfg.streams : 1;
      },
      note: (line) => this.trace.add(`${p.id}: ${line}`),
    };
  }

  private redisCall<T>(p: Proc, inc: number, op: (r: FakeRedis) => T, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const t = this.sched.after(timeoutMs / p.rate, () => {
        if (!done) {
          done = true;
          reject(new TimeoutError('Command timed out'));
        }
      }, p.id, inc);
      this.net.send(p.id, 'redis', () => {
        if (!this.redis.up) return;
        const result = op(this.redis);
        this.net.send('redis', p.id, () => {
          if (done) return;
          done = true;
          t.cancelled = true;
          resolve(result);
        }, p.id, inc);
      }, null, ANY);
    });
  }

  /** An HTTP request carrying one replication frame; the follower's route answers 200 with the answer's bytes, or its error's status. */
  private post(p: Proc, inc: number, to: string, frame: Buffer, auth: string, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let done = false;
      const settle = (fn: () => void) => {
        if (done) return;
        done = true;
        t.cancelled = true;
        fn();
      };
      const t = this.sched.after(timeoutMs / p.rate, () => settle(() => reject(new TransportError(`no answer within ${timeoutMs} ms`))), p.id, inc);
      this.net.send(p.id, to, () => {
        const target = this.procs.get(to);
        if (!target?.up || !target.broker) {
          const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
          this.net.send(to, p.id, () => settle(() => reject(refused)), p.id, inc);
          return;
        }
        target.broker.replicate(frame, auth).then(
          (answer) => this.net.send(to, p.id, () => settle(() => resolve(answer)), p.id, inc),
          (err: Error & { status?: number }) => {
            const refused = new TransportError(`HTTP ${err.status ?? 500}: ${err.message}`, err.status ?? 500);
            this.net.send(to, p.id, () => settle(() => reject(refused)), p.id, inc);
          },
        );
      }, to, ANY);
    });
  }

  /**
   * A frame on the replication stream from `p` to `to` (stream-connection.ts, replica-stream.ts):
   * frames and answers each travel in order on one connection; a lost message, a cut, the
   * follower's restart or a frame's timeout resets the connection, which fails every frame in
   * flight on it (ECONNRESET, noticed a network delay later) and delivers nothing more; the next
   * frame opens a new one. ECONNREFUSED when the first frame finds nobody listening.
   */
  private postOnStream(p: Proc, inc: number, to: string, frame: Buffer, auth: string, timeoutMs: number): Promise<Buffer> {
    const key = `${p.id}#${inc}>${to}`;
    let s = this.streams.get(key);
    if (!s || s.broken) {
      s = { id: ++this.streamSeq, broken: false, targetInc: null, pending: new Set() };
      this.streams.set(key, s);
    }
    const stream = s;
    const reset = () => this.resetStream(stream, p, inc);
    return new Promise<Buffer>((resolve, reject) => {
      let done = false;
      const settle = (fn: () => void) => {
        if (done) return;
        done = true;
        t.cancelled = true;
        stream.pending.delete(fail);
        fn();
      };
      const fail = (err: Error) => settle(() => reject(err));
      stream.pending.add(fail);
      const t = this.sched.after(timeoutMs / p.rate, () => {
        fail(new TransportError(`no answer within ${timeoutMs} ms`));
        reset();
      }, p.id, inc);
      const answerBack = (fn: () => void) =>
        this.net.send(to, p.id, () => (stream.broken ? undefined : settle(fn)), p.id, inc, { order: `s${stream.id}<`, lost: reset });
      this.net.send(p.id, to, () => {
        if (stream.broken) return;
        const target = this.procs.get(to);
        if (!target?.up || !target.broker || (stream.targetInc !== null && stream.targetInc !== target.inc)) {
          if (stream.targetInc === null) {
            const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
            answerBack(() => reject(refused));
          } else reset();
          return;
        }
        stream.targetInc = target.inc;
        target.broker.replicate(frame, auth).then(
          (answer) => answerBack(() => resolve(answer)),
          (err: Error & { status?: number }) => answerBack(() => reject(new TransportError(`HTTP ${err.status ?? 500}: ${err.message}`, err.status ?? 500))),
        );
      }, to, ANY, { order: `s${stream.id}>`, lost: reset });
    });
  }

  /** The connection is gone: nothing more arrives on it, and its sender learns a network delay later. */
  private resetStream(s: SimStream, p: Proc, inc: number): void {
    if (s.broken) return;
    s.broken = true;
    this.sched.after(this.cfg.net.maxDelayMs / p.rate, () => {
      const err = Object.assign(new Error('the replication stream was reset'), { code: 'ECONNRESET' });
      for (const fail of [...s.pending]) fail(err);
    }, p.id, inc);
  }

  /** Redis PUBLISH on the events channel: every subscribed broker looks at the lease at once. */
  publishRelease(): void {
    for (const p of this.procs.values()) {
      this.net.send('redis', p.id, () => {
        if (p.up) p.broker?.onReleased();
      }, p.id, p.inc);
    }
  }

  // ---- the client: single-record produces to whoever it thinks leads

  private clientLoop(): void {
    this.sched.after(this.rng.float(0.5, 2) * this.cfg.clientGapMs, () => {
      if (this.clientOn && this.clientInflight < 32) this.produceOne();
      this.clientLoop();
    }, 'client');
  }

  private produceOne(): void {
    const ids = [...this.procs.keys()];
    const target = this.leaderHint && this.rng.chance(0.9) ? this.leaderHint : this.rng.pick(ids);
    const partition = this.rng.int(0, this.cfg.partitions - 1);
    const value = `v${++this.clientSeq}`;
    const writeMs = this.rng.float(0.01, 1);
    this.clientInflight++;
    const answered = (hint: string | null) => {
      this.clientInflight--;
      this.leaderHint = hint;
    };
    // A request lost on the way is a client timeout; the client gives up after 35 s.
    const giveUp = this.sched.after(35_000, () => answered(null), 'client');
    const reply = (hint: string | null) => () => {
      if (giveUp.cancelled) return;
      giveUp.cancelled = true;
      answered(hint);
    };
    this.net.send('client', target, () => {
      const p = this.procs.get(target)!;
      if (!p.up || !p.broker) return this.net.send(target, 'client', reply(null), 'client', ANY);
      const broker = p.broker;
      void broker.produce(partition, value, writeMs).then((out) => {
        const hint = out.ok ? target : (broker.elector.leader()?.id ?? null);
        this.net.send(target, 'client', reply(hint), 'client', ANY);
      });
    }, target, ANY);
  }
}
