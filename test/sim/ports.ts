import type { ElectionMemory, ElectionStore } from '../../broker-runtime/src/election/ports.js';
import { newerIsr } from '../../broker-runtime/src/election/decisions.js';
import type { AcquireMode, AcquireResult, BrokerRegistration, CandidateList, Candidacy, InSyncSet, IsrWrite, LeaseHolder } from '../../broker-runtime/src/election/lease-store.js';
import type { TimePorts } from '../../broker-runtime/src/ports/clock.js';
import { FRAME_AUTH_HEADER } from '../../broker-runtime/src/replication/frame-auth.js';
import type { FrameHeaders, FramePoster } from '../../broker-runtime/src/replication/transport.js';
import type { Disk } from './disk.js';
import type { Runtime } from './runtime.js';

/**
 * The ports the real election and replication classes take, built over a simulated process's
 * runtime: its drifting clock and timers (which stop while it is paused and die with it), and its
 * Redis round trips over the fake network.
 */
export function simTime(rt: Runtime): TimePorts {
  return {
    clock: { now: () => rt.now() },
    timers: {
      after: (ms, fn) => rt.timer(ms, fn),
      every(ms, fn) {
        let current = rt.timer(ms, function again() {
          current = rt.timer(ms, again);
          fn();
        });
        return { cancel: () => current.cancel() };
      },
      // setImmediate: whatever is already due runs first.
      turn: () => new Promise<void>((resolve) => rt.timer(0, resolve)),
    },
  };
}

/**
 * LeaseStore over the fake Redis: each call one round trip that may time out after the command
 * timeout without knowing whether Redis applied it (listCandidates: SMEMBERS with the stated history, then MGET — two).
 */
export class SimLeaseStore implements ElectionStore {
  /** Redis's run id as last read: a restart is what a new connection generation means. */
  private runId = 0;
  private onReleased: (() => void) | null = null;
  /** Whether the last release took the lease (the world then publishes it, as RELEASE_LUA does). */
  released = false;

  constructor(
    private readonly rt: Runtime,
    private readonly commandTimeoutMs: number,
  ) {}

  connectionGeneration(): number {
    return this.runId;
  }

  acquire(id: string, _url: string, leaseMs: number, minEpoch: number, mode: AcquireMode, frameKey: string): Promise<AcquireResult> {
    return this.rt.redis((r) => r.acquire(id, leaseMs, minEpoch, mode, frameKey), this.commandTimeoutMs);
  }

  frameKey(epoch: number): Promise<string | null> {
    return this.rt.redis((r) => r.frameKey(epoch), this.commandTimeoutMs);
  }

  renew(value: string, leaseMs: number): Promise<boolean> {
    return this.rt.redis((r) => r.renew(value, leaseMs), this.commandTimeoutMs);
  }

  async release(value: string): Promise<boolean> {
    this.released = await this.rt.redis((r) => r.release(value), this.commandTimeoutMs);
    return this.released;
  }

  async readLeader(): Promise<{ holder: LeaseHolder | null; pttlMs: number; isr: InSyncSet | null; epochCounter: number }> {
    const { runId, ...rest } = await this.rt.redis((r) => r.readLeader(), this.commandTimeoutMs);
    this.runId = runId;
    return rest;
  }

  async register(reg: BrokerRegistration, ttlMs: number, candidacy: Candidacy | null): Promise<void> {
    await this.rt.redis((r) => r.register(reg.id, ttlMs, candidacy), this.commandTimeoutMs);
  }

  async listCandidates(): Promise<CandidateList> {
    await this.rt.redis((r) => r.listBrokers(), this.commandTimeoutMs);
    return this.rt.redis((r) => r.listCandidates(), this.commandTimeoutMs);
  }

  async listBrokers(): Promise<{ id: string; url: string | null; alive: boolean }[]> {
    const brokers = await this.rt.redis((r) => r.listBrokers(), this.commandTimeoutMs);
    return brokers.map((b) => ({ ...b, url: `sim://${b.id}` }));
  }

  /** The fake Redis has no replicas to WAIT for: a fenced write is recorded or finds the lease lost. */
  async writeIsr(value: string, isr: InSyncSet): Promise<IsrWrite> {
    return (await this.rt.redis((r) => r.writeIsr(value, isr), this.commandTimeoutMs)) ? 'recorded' : 'lease-lost';
  }

  /** The fake Redis has no connection errors to explain a failure with. */
  connectionProblem(): string | null {
    return null;
  }

  /** The simulated cluster never ran a version before hash-tagged key names. */
  legacyLeaseHeld(): Promise<boolean> {
    return Promise.resolve(false);
  }

  subscribeReleases(onReleased: () => void): Promise<void> {
    this.onReleased = onReleased;
    return Promise.resolve();
  }

  /** The events channel delivered a release (World.publishRelease). */
  deliverRelease(): void {
    this.onReleased?.();
  }
}

/** FrameTransport over the fake network: `sim://b2` is broker b2; only the frame route exists. */
export class SimFramePoster implements FramePoster {
  constructor(private readonly rt: Runtime) {}

  post(baseUrl: string, path: string, body: Buffer, timeoutMs: number, extraHeaders: FrameHeaders = {}): Promise<Buffer> {
    if (path !== '/replica/append') return Promise.reject(new Error(`${path}: not simulated`));
    const auth = extraHeaders[FRAME_AUTH_HEADER];
    return this.rt.post(new URL(baseUrl).hostname, body, typeof auth === 'string' ? auth : '', timeoutMs);
  }

  inFlightLimit(baseUrl: string): number {
    return this.rt.inFlightLimit(new URL(baseUrl).hostname);
  }
}

/**
 * broker-state.json on the simulated disk: written with fsync before the promise resolves, so it
 * survives crashes and power loss; a set is kept only if newer than the one remembered.
 */
export class SimBrokerState implements ElectionMemory {
  constructor(private readonly disk: Disk) {}

  highestEpoch(): number {
    return this.disk.highestEpoch;
  }

  lastIsr(): InSyncSet | null {
    return this.disk.lastIsr;
  }

  observe(epoch: number): Promise<void> {
    if (epoch > this.disk.highestEpoch) this.disk.highestEpoch = epoch;
    return Promise.resolve();
  }

  rememberIsr(isr: InSyncSet): Promise<void> {
    const kept = newerIsr(this.disk.lastIsr, isr);
    if (kept !== this.disk.lastIsr) this.disk.lastIsr = { epoch: isr.epoch, members: [...isr.members].sort(), version: isr.version ?? 0 };
    return Promise.resolve();
  }
}
