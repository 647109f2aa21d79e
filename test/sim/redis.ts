import { newerIsr } from '../../broker-runtime/src/election/decisions.js';
import { candidacyEpoch } from '../../broker-runtime/src/election/lease-machine.js';
import type { AcquireMode, AcquireResult, Candidacy, CandidateList, InSyncSet, LeaseHolder, StatedHistory } from '../../broker-runtime/src/election/lease-store.js';

/** The in-sync set as written: `version` orders the writes within one epoch. */
export type SimIsr = InSyncSet;
/** A candidacy carries the newest in-sync set the broker remembers. */
export type SimCandidacy = Candidacy;
export type SimAcquireResult = AcquireResult;

/**
 * The lease store as Redis holds it, each operation atomic as its Lua script or MULTI is
 * (scripts.ts, lease-store.ts): keys with expiries on Redis's own clock, the epoch counter, the
 * in-sync set. `restartEmpty` is Redis without persistence coming back from a crash.
 */
export class FakeRedis {
  up = true;
  /** Changes with every restart (Redis's INFO run_id); only the safe-recovery fix reads it. */
  private runId = 1;
  private leader: { value: string; holder: LeaseHolder; expiresAt: number } | null = null;
  private epoch: number | null = null;
  private isr: SimIsr | null = null;
  private readonly brokers = new Set<string>();
  private readonly regs = new Map<string, number>();
  private readonly candidates = new Map<string, { c: SimCandidacy; expiresAt: number }>();
  /** The stated-history hash (STATE_HISTORY_LUA): no expiry, only a restart empties it. */
  private stated: StatedHistory = { highestEpoch: 0, isr: null };
  /** Each leadership's frame key (hex), stored with the lease: followers check frames against it. */
  private readonly frameKeys = new Map<number, string>();

  constructor(private readonly clock: () => number) {}

  restartEmpty(): void {
    this.runId++;
    this.leader = null;
    this.epoch = null;
    this.isr = null;
    this.brokers.clear();
    this.regs.clear();
    this.candidates.clear();
    this.stated = { highestEpoch: 0, isr: null };
    this.frameKeys.clear();
  }

  /** ACQUIRE_LUA: take the lease if free and allowed; the epoch is above the counter and minEpoch. */
  acquire(id: string, leaseMs: number, minEpoch: number, mode: AcquireMode, frameKey = ''): SimAcquireResult {
    this.expire();
    if (this.leader) return { won: false, reason: 'held' };
    const isr = this.isr;
    if (mode !== 'unclean') {
      if (isr) {
        if (!isr.members.includes(id)) return { won: false, reason: 'not-in-sync' };
      } else if (mode !== 'recover') return { won: false, reason: 'no-isr' };
    }
    const e = Math.max(this.epoch ?? 0, minEpoch) + 1;
    this.epoch = e;
    this.frameKeys.set(e, frameKey);
    // The real value is JSON {id, url, epoch}: unique exactly when (id, epoch) is.
    const value = `${id}@${e}`;
    this.leader = { value, holder: { id, url: `sim://${id}`, epoch: e }, expiresAt: this.clock() + Math.round(leaseMs) };
    if (!isr || mode === 'unclean') {
      const members = [id];
      if (isr && mode === 'unclean') for (const m of isr.members) if (m !== id) members.push(m);
      this.isr = { epoch: e, members, version: 0 };
    }
    return { won: true, epoch: e, value, isr: this.isr ? copyIsr(this.isr) : null };
  }

  /** RENEW_LUA */
  renew(value: string, leaseMs: number): boolean {
    this.expire();
    if (this.leader?.value !== value) return false;
    this.leader.expiresAt = this.clock() + Math.round(leaseMs);
    return true;
  }

  /** RELEASE_LUA: true when released (the caller publishes the release to every subscriber). */
  release(value: string): boolean {
    this.expire();
    if (this.leader?.value !== value) return false;
    this.leader = null;
    return true;
  }

  /** readLeader(): GET leader, PTTL leader, GET isr, GET epoch in one MULTI. */
  readLeader(): { holder: LeaseHolder | null; pttlMs: number; isr: SimIsr | null; epochCounter: number; runId: number } {
    this.expire();
    const l = this.leader;
    return {
      holder: l ? { ...l.holder } : null,
      pttlMs: l ? Math.max(0, Math.ceil(l.expiresAt - this.clock())) : -2,
      isr: this.isr ? copyIsr(this.isr) : null,
      epochCounter: this.epoch ?? 0,
      runId: this.runId,
    };
  }

  /** HGET frame-keys epoch. */
  frameKey(epoch: number): string | null {
    return this.frameKeys.get(epoch) ?? null;
  }

  /** FENCED_SET_LUA on the isr key. */
  writeIsr(value: string, isr: SimIsr): boolean {
    this.expire();
    if (this.leader?.value !== value) return false;
    this.isr = copyIsr(isr);
    return true;
  }

  register(id: string, ttlMs: number, candidacy: SimCandidacy | null): void {
    const until = this.clock() + Math.round(ttlMs);
    this.regs.set(id, until);
    this.brokers.add(id);
    if (!candidacy) return;
    this.candidates.set(id, { c: { ...candidacy, isr: candidacy.isr ? copyIsr(candidacy.isr) : candidacy.isr }, expiresAt: until });
    // STATE_HISTORY_LUA, in the same MULTI: a max epoch and the newest set (ties keep the old one).
    const isr = candidacy.isr ? { ...copyIsr(candidacy.isr), version: candidacy.isr.version ?? 0 } : null;
    this.stated = { highestEpoch: Math.max(this.stated.highestEpoch, candidacyEpoch(candidacy)), isr: newerIsr(this.stated.isr, isr) };
  }

  deregister(id: string): void {
    this.regs.delete(id);
    this.candidates.delete(id);
  }

  listBrokers(): { id: string; alive: boolean }[] {
    this.expire();
    return [...this.brokers].sort().map((id) => ({ id, alive: this.regs.has(id) }));
  }

  /** SMEMBERS + HGETALL stated-history, then MGET of the candidacies. */
  listCandidates(): CandidateList {
    this.expire();
    const candidates = [...this.brokers].map((id) => this.candidates.get(id)?.c).filter((c): c is SimCandidacy => c !== undefined).map((c) => ({ ...c }));
    return { candidates, stated: { highestEpoch: this.stated.highestEpoch, isr: this.stated.isr ? copyIsr(this.stated.isr) : null } };
  }

  /** For the checker and traces. */
  peek(): { holder: LeaseHolder | null; isr: SimIsr | null; epoch: number | null } {
    this.expire();
    return { holder: this.leader?.holder ?? null, isr: this.isr, epoch: this.epoch };
  }

  private expire(): void {
    const now = this.clock();
    if (this.leader && this.leader.expiresAt <= now) this.leader = null;
    for (const [id, until] of this.regs) if (until <= now) this.regs.delete(id);
    for (const [id, c] of this.candidates) if (c.expiresAt <= now) this.candidates.delete(id);
  }
}

function copyIsr(isr: SimIsr): SimIsr {
  return { ...isr, members: [...isr.members] };
}
