import type { SimBroker } from './broker.js';
import type { Entry } from './disk.js';

/** One broken invariant: its name, what was seen, and when (simulated ms, step). */
export interface Violation {
  invariant: string;
  detail: string;
  at: number;
  step: number;
}

interface Committed {
  epoch: number;
  value: string;
  at: number;
  /** Committed before a power loss cut the node that held it below this offset: excluded from the guarantees. */
  soft: boolean;
}

/** The live process the checker looks at; `key` changes with every restart. */
export interface Watched {
  id: string;
  key: string;
  broker: SimBroker;
}

/**
 * The invariants, checked after every step: at most one leader per epoch, epochs only grow, at
 * most one broker can write at a time, a broker's high-water mark never goes down, every replica's
 * prefix below its high-water mark equals the committed log (so committed entries never change),
 * a new leader holds every committed entry, and every acknowledged record is committed. The
 * settle phase then checks that nothing acknowledged is missing anywhere.
 */
export class Checker {
  readonly violations: Violation[] = [];
  private readonly leaders = new Map<number, string>();
  private maxEpoch = 0;
  private readonly committed: Committed[][];
  /** `p:offset:value` of records committed before a power loss cut them: still on other replicas, allowed to vanish. */
  private readonly exempt = new Set<string>();
  private readonly seen = new Map<string, { epoch: number; hwm: number[]; verified: number[] }>();
  private pendingAcks: { node: string; p: number; o: number; v: string }[] = [];
  readonly acked: { p: number; o: number; v: string }[] = [];
  readonly refusedAfterAppend = new Set<string>();
  /** Set once a recovery election ran with no in-sync replica alive: nothing after it is checked. */
  unguarded = false;
  stats = { elections: 0, stillborn: 0, unguarded: 0, acks: 0, refused: 0, maxWriters: 0 };

  constructor(
    partitions: number,
    private readonly now: () => { at: number; step: number },
  ) {
    this.committed = Array.from({ length: partitions }, () => []);
  }

  fail(invariant: string, detail: string): void {
    if (this.violations.length < 20) this.violations.push({ invariant, detail, ...this.now() });
  }

  // ---- events from the brokers

  elected(node: string, epoch: number, broker: SimBroker, guarded = true): void {
    // A broker paused between Redis granting the lease and hearing so wakes up "elected" with a lease
    // that has run out: it cannot write a thing and steps down; not a leadership.
    if (!broker.elector.canWrite()) {
      this.stats.stillborn++;
      return;
    }
    this.stats.elections++;
    if (!guarded) {
      // No in-sync replica survived Redis's restart: the brokers cannot know who holds the committed
      // records, nor the epochs used; the rest of the run is outside the guarantees.
      this.stats.unguarded++;
      this.unguarded = true;
    }
    if (this.unguarded) return;
    const before = this.leaders.get(epoch);
    if (before !== undefined) this.fail('one leader per epoch', `${node} elected with epoch ${epoch}, already used by ${before}`);
    if (epoch <= this.maxEpoch) this.fail('epochs only grow', `${node} elected with epoch ${epoch} after epoch ${this.maxEpoch}`);
    this.leaders.set(epoch, node);
    this.maxEpoch = Math.max(this.maxEpoch, epoch);
    // Leader completeness: only an in-sync replica leads, and an in-sync replica has every committed record.
    broker.logs.forEach((log, p) => {
      const c = this.committed[p]!;
      for (let o = 0; o < c.length; o++) {
        const e = log.entry(o);
        if (c[o]!.soft || this.exempt.has(`${p}:${o}:${c[o]!.value}`)) continue;
        if (!e || e.epoch !== c[o]!.epoch || e.value !== c[o]!.value) {
          this.fail('a new leader has every committed record', `${node} (epoch ${epoch}) p${p}: log end ${log.logEndOffset()}, committed ${c.length}; first gap at ${o} (${e ? `${e.value}@e${e.epoch}` : 'missing'} vs committed ${c[o]!.value}@e${c[o]!.epoch})`);
          return;
        }
      }
    });
  }

  acked_(node: string, p: number, o: number, v: string): void {
    this.stats.acks++;
    this.pendingAcks.push({ node, p, o, v });
  }

  refused(value: string, appended: boolean): void {
    this.stats.refused++;
    if (appended) this.refusedAfterAppend.add(value);
  }

  /**
   * A power loss took these records from a broker. They, and whatever was committed at or after the
   * first of them before now, are outside the guarantees: that broker may still be in the in-sync
   * set, it acknowledged them, and it may lead without them.
   */
  powerLoss(lost: Entry[][]): void {
    lost.forEach((entries, p) => {
      if (entries.length === 0) return;
      for (const e of entries) this.exempt.add(`${p}:${e.offset}:${e.value}`);
      const c = this.committed[p]!;
      for (let o = entries[0]!.offset; o < c.length; o++) {
        c[o]!.soft = true;
        this.exempt.add(`${p}:${o}:${c[o]!.value}`);
      }
    });
  }

  // ---- after every step

  afterStep(live: Watched[]): void {
    if (this.unguarded) return;
    const writers = live.filter((w) => w.broker.writable());
    this.stats.maxWriters = Math.max(this.stats.maxWriters, writers.length);
    if (writers.length > 1) {
      this.fail('at most one broker can write at a time', writers.map((w) => `${w.id} (epoch ${w.broker.elector.currentEpoch()})`).join(' and '));
    }
    for (const w of live) this.checkBroker(w);
    for (const a of this.pendingAcks) {
      const c = this.committed[a.p]![a.o];
      if (!c || c.value !== a.v) this.fail('an acknowledged record is committed', `${a.node} acknowledged ${a.v} at p${a.p}@${a.o}, committed there: ${c ? c.value : 'nothing'}`);
      this.acked.push({ p: a.p, o: a.o, v: a.v });
    }
    this.pendingAcks = [];
  }

  private checkBroker(w: Watched): void {
    const epoch = w.broker.elector.currentEpoch();
    let s = this.seen.get(w.key);
    if (!s) {
      s = { epoch, hwm: w.broker.logs.map(() => 0), verified: w.broker.logs.map(() => 0) };
      this.seen.set(w.key, s);
    }
    if (epoch < s.epoch) this.fail('epochs only grow', `${w.id}'s epoch went from ${s.epoch} to ${epoch}`);
    s.epoch = epoch;
    w.broker.logs.forEach((log, p) => {
      if (log.epochRegression) this.fail('epochs in a log only grow', `${w.id} ${log.epochRegression}`);
      const cut = log.cutBelowHwm;
      log.cutBelowHwm = null;
      const lost = cut ? cut.cut.filter((e) => !this.exempt.has(`${p}:${e.offset}:${e.value}`)) : [];
      if (cut && lost.length > 0) {
        // Cut and written back identically within the same request (a retried truncation): the data survives,
        // but the high-water mark went down meanwhile and the records were gone from this replica for a while.
        const restored = lost.every((e) => log.entry(e.offset)?.value === e.value) && log.highWatermark() >= cut.hwm;
        if (restored) this.fail('a replica never truncates below its high-water mark', `${w.id} p${p}: cut ${cut.offset}..${cut.hwm} below its high-water mark ${cut.hwm} and wrote the same records back`);
        else this.fail('committed entries never change', `${w.id} p${p}: truncated to ${cut.offset}, below its high-water mark ${cut.hwm}; lost ${lost.map((e) => e.value).join(', ')}`);
      }
      const hwm = log.highWatermark();
      // A cut below the high-water mark was judged above (a power loss may excuse it).
      if (hwm < s.hwm[p]! && !cut) this.fail('the high-water mark never decreases', `${w.id} p${p}: ${s.hwm[p]} -> ${hwm}`);
      s.hwm[p] = hwm;
      let from = s.verified[p]!;
      if (log.cutFrom !== null) from = Math.min(from, log.cutFrom);
      log.cutFrom = null;
      const c = this.committed[p]!;
      for (let o = from; o < hwm; o++) {
        const e = log.entry(o)!;
        const have = c[o];
        if (!have) c[o] = { epoch: e.epoch, value: e.value, at: this.now().at, soft: false };
        else if (have.epoch !== e.epoch || have.value !== e.value) {
          // A record committed before, or lost by, a power loss may be replaced by the log that won.
          if (have.soft || this.exempt.has(`${p}:${o}:${have.value}`)) c[o] = { epoch: e.epoch, value: e.value, at: this.now().at, soft: false };
          else if (this.exempt.has(`${p}:${o}:${e.value}`)) continue; // a record a power loss took from the log that won
          else this.fail('replicas agree below the high-water mark', `${w.id} p${p}@${o} holds ${e.value}@e${e.epoch}, committed ${have.value}@e${have.epoch}`);
        }
      }
      s.verified[p] = hwm;
    });
  }


  // ---- after the settle phase

  /** Every acknowledged record (not excluded by a power loss) is at its offset on every broker, below its high-water mark. */
  final(live: Watched[], keepsPowerLossRecords: (id: string, p: number) => boolean = () => false): void {
    if (this.unguarded) return;
    for (const a of this.acked) {
      if (this.isExempt(a)) continue;
      for (const w of live) {
        if (keepsPowerLossRecords(w.id, a.p)) continue; // see run.ts: keepsWhatThePowerLossTook
        const log = w.broker.logs[a.p]!;
        const e = log.entry(a.o);
        if (!e || e.value !== a.v || log.highWatermark() <= a.o) {
          this.fail('an acknowledged record is never lost', `${a.v} (p${a.p}@${a.o}) on ${w.id}: ${e ? `${e.value}, hwm ${log.highWatermark()}` : 'missing'}`);
          return;
        }
      }
    }
  }

  /** Records answered NOT_LEADER/TIMEOUT after they were appended that are committed now. */
  refusedButCommitted(): number {
    let n = 0;
    for (const c of this.committed) for (const e of c) if (this.refusedAfterAppend.has(e.value)) n++;
    return n;
  }

  /** Whether this record at this offset was taken from some broker by a power loss (outside the guarantees). */
  lostToPowerLoss(p: number, offset: number, value: string): boolean {
    return this.exempt.has(`${p}:${offset}:${value}`);
  }

  excludedAcks(): number {
    return this.acked.filter((a) => this.isExempt(a)).length;
  }

  private isExempt(a: { p: number; o: number; v: string }): boolean {
    return this.exempt.has(`${a.p}:${a.o}:${a.v}`) || this.committed[a.p]![a.o]?.soft === true;
  }

  committedCounts(): number[] {
    return this.committed.map((c) => c.length);
  }
}
