/**
 * Who keeps a connection on a listener capped at `max` whose port is shared with a peer that must
 * always get in (the REST port, which replication shares: http/connection-limit.ts says why). Pure
 * bookkeeping over anything that can be destroyed; the listener decides what a connection proves.
 *
 * - Below the cap a connection is *regular*: kept, as any connection was before.
 * - Past it, a connection is put *on probation* instead of being closed at accept: it may stay
 *   `deadlineMs` for its first request to prove it belongs to the peer that must get in
 *   (`promote`), and is closed as refused when it does not (`refuse`, or the deadline).
 * - A refused probationer may get an answer before it is closed (`answer`: a leader of an older
 *   version is told to post its frames instead of opening a stream); it is refused then and keeps
 *   its place on probation until it has closed, so answered ones count within `slots` too.
 * - Probation holds at most `slots` connections. A newcomer finding it full evicts the oldest
 *   probationer, but only one that had `graceMs` to prove itself; if every probationer is younger,
 *   the newcomer is refused at once. Evicting the oldest (rather than refusing every newcomer while
 *   the pool is full, as a plain cap would) means a flood cannot keep a genuine peer out by merely
 *   holding the pool: its probationers must be replaced before each has sent one request. The
 *   grace means a flood cannot flush a genuine peer's connection before its request arrives
 *   either, however fast it reconnects: each admitted probationer gets `graceMs` (far more than
 *   a loopback or LAN round trip, and a TLS handshake), and a flood refreshing all the slots
 *   faster than that only makes some of the genuine peer's attempts refused at once (it retries).
 * - A promoted connection holds its place as long as it stays open, outside the cap, up to
 *   `maxPromoted` of them; one more promoted closes the oldest promoted (only holders of the
 *   secret can be promoted, and the newest is the one in use).
 *
 * So the connections held never exceed max + slots + maxPromoted, and a flood of connections
 * that prove nothing never holds more than `max` past a moment: probationers leave within
 * `deadlineMs`, and whatever they send is never served.
 */
export interface ProbationOptions<C> {
  /** Regular connections at once (--max-connections). */
  max: number;
  /** Connections on probation at once. */
  slots: number;
  /** How long a probationer may take to be promoted. */
  deadlineMs: number;
  /** How long a probationer is safe from eviction by a newcomer. */
  graceMs: number;
  /** Promoted connections kept past the cap at once. */
  maxPromoted: number;
  /** Closes `conn` (it is forgotten first, so its close event finds nothing to free). */
  close(conn: C): void;
  /** A connection refused: never served, closed right after this. Called once per refused connection. */
  refused(conn: C, why: RefusalCause): void;
  /** Monotonic ms; performance.now() by default. */
  now?: () => number;
  /** A timer that does not keep the process alive; setTimeout(…).unref() by default. */
  after?: (ms: number, fn: () => void) => { cancel(): void };
}

export type RefusalCause = 'probation full' | 'evicted' | 'deadline' | 'not proven' | 'answered';
export type Standing = 'regular' | 'probation' | 'promoted' | 'refused';

interface Probationer {
  since: number;
  timer: { cancel(): void };
  /** Refused already, and being answered (`answer`): it can no longer be promoted, nor refused again. */
  answered?: true;
}

export class ConnectionProbation<C> {
  private readonly regular = new Set<C>();
  /** In arrival order (a Map keeps insertion order): the first is the oldest. */
  private readonly probation = new Map<C, Probationer>();
  private readonly promoted = new Set<C>();
  private readonly now: () => number;
  private readonly after: NonNullable<ProbationOptions<C>['after']>;

  constructor(private readonly o: ProbationOptions<C>) {
    for (const [name, v] of [['max', o.max], ['slots', o.slots], ['maxPromoted', o.maxPromoted]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer; got ${v}`);
    }
    this.now = o.now ?? (() => performance.now());
    this.after =
      o.after ??
      ((ms, fn) => {
        const t = setTimeout(fn, ms);
        t.unref();
        return { cancel: () => clearTimeout(t) };
      });
  }

  /** A new connection: where it stands now ('refused': it was closed already). */
  arrive(conn: C): Standing {
    if (this.regular.size < this.o.max) {
      this.regular.add(conn);
      return 'regular';
    }
    if (this.probation.size >= this.o.slots) {
      const [oldest, entry] = this.probation.entries().next().value as [C, Probationer];
      if (this.now() - entry.since < this.o.graceMs) {
        this.o.refused(conn, 'probation full');
        this.o.close(conn);
        return 'refused';
      }
      this.drop(oldest, 'evicted');
    }
    this.probation.set(conn, { since: this.now(), timer: this.after(this.o.deadlineMs, () => this.drop(conn, 'deadline')) });
    return 'probation';
  }

  /** Whether `conn` is on probation (its first request decides). */
  onProbation(conn: C): boolean {
    return this.probation.has(conn);
  }

  /** `conn` proved itself: it keeps its place while open. No effect unless it is on probation. */
  promote(conn: C): void {
    const entry = this.probation.get(conn);
    if (!entry || entry.answered) return;
    entry.timer.cancel();
    this.probation.delete(conn);
    if (this.promoted.size >= this.o.maxPromoted) {
      const oldest = this.promoted.values().next().value as C;
      this.promoted.delete(oldest);
      this.o.close(oldest);
    }
    this.promoted.add(conn);
  }

  /** `conn`'s first request proved nothing: it is closed, refused. No effect unless it is on probation. */
  refuse(conn: C): void {
    this.drop(conn, 'not proven');
  }

  /**
   * `conn`'s first request proved nothing, but is answered before `conn` closes (the listener writes
   * the answer and ends it): refused now ('answered'), it keeps its probation place until it has
   * closed, its deadline or an eviction closing it at the latest, so answering a connection never
   * lets more be held than refusing it at once would. Whether `conn` was on probation and not
   * answered yet (false: nothing to answer, it is closed or kept already).
   */
  answer(conn: C): boolean {
    const entry = this.probation.get(conn);
    if (!entry || entry.answered) return false;
    entry.answered = true;
    this.o.refused(conn, 'answered');
    return true;
  }

  /** `conn` closed (whoever closed it): its place is free. */
  left(conn: C): void {
    if (this.regular.delete(conn) || this.promoted.delete(conn)) return;
    const entry = this.probation.get(conn);
    if (!entry) return;
    entry.timer.cancel();
    this.probation.delete(conn);
  }

  /** Connections held now, by standing (tests, /metrics). */
  counts(): { regular: number; probation: number; promoted: number } {
    return { regular: this.regular.size, probation: this.probation.size, promoted: this.promoted.size };
  }

  private drop(conn: C, why: RefusalCause): void {
    const entry = this.probation.get(conn);
    if (!entry) return;
    entry.timer.cancel();
    this.probation.delete(conn);
    if (!entry.answered) this.o.refused(conn, why); // an answered one was counted when it was answered
    this.o.close(conn);
  }
}
