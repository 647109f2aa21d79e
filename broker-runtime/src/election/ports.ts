import type { AcquireMode, AcquireResult, BrokerRegistration, CandidateList, Candidacy, InSyncSet, LeaseHolder } from './lease-store.js';

/**
 * What the elector needs of the lease store: each call one Redis round trip (listCandidates two)
 * that may fail or time out without telling whether Redis applied it. `LeaseStore` is the
 * production one (Redis); test/sim has one over its fake Redis and network.
 */
export interface ElectionStore {
  /** Counts (re)connections: a change means Redis may have restarted (and lost its data) meanwhile. */
  connectionGeneration(): number;
  acquire(id: string, url: string, leaseMs: number, minEpoch: number, mode: AcquireMode, frameKey: string): Promise<AcquireResult>;
  renew(value: string, leaseMs: number): Promise<boolean>;
  release(value: string): Promise<boolean>;
  readLeader(): Promise<{ holder: LeaseHolder | null; pttlMs: number; isr: InSyncSet | null; epochCounter: number }>;
  /** A candidacy expires with the registration; what it states about the past is kept (StatedHistory). */
  register(reg: BrokerRegistration, ttlMs: number, candidacy: Candidacy | null): Promise<void>;
  listCandidates(): Promise<CandidateList>;
  /** Calls `onReleased` whenever a leader gives its lease up, so candidates need not wait a poll. */
  subscribeReleases(onReleased: () => void): Promise<void>;
  /** The connection's own last error (e.g. NOAUTH from a Sentinel), to explain a failed command; null when none. */
  connectionProblem(): string | null;
  /** Whether a broker of an older version holds the lease under the key names before hash tags. */
  legacyLeaseHeld(): Promise<boolean>;
}

/**
 * What a broker remembers across restarts outside its logs (broker-state.json in production,
 * `BrokerState`): the highest epoch seen and the newest in-sync set seen. The promises resolve
 * once the change is durable.
 */
export interface ElectionMemory {
  highestEpoch(): number;
  lastIsr(): InSyncSet | null;
  observe(epoch: number): Promise<void>;
  rememberIsr(isr: InSyncSet): Promise<void>;
}

/**
 * Rules the simulator can turn back to what they were before a bug was fixed, to show its checker
 * still catches that bug (test/sim/config.ts, the `revert-*` mutations), or break on purpose. All
 * off in production: an empty object is the rules as they are.
 */
export interface ElectorRules {
  /** no-write-deadline: a leader may write for as long as it believes it leads, lease or not. */
  ignoreWriteDeadline?: boolean;
  /** revert-B: read the in-sync set in a second round trip after winning the lease (it may fail). */
  isrReadAfterAcquire?: boolean;
  /**
   * revert-D: the recovery wait is a few polls however much the cluster has seen, survives Redis
   * restarts and failed reads, and the new epoch is above only this broker's own history.
   */
  hastyRecovery?: boolean;
  /** revert-D2: recover as the best-ranked candidate, whatever in-sync sets anyone remembers or stated. */
  ignoreRememberedIsr?: boolean;
  /**
   * forget-stated (sim seed 111): decide on the live candidacies only, as before the stated history:
   * what a broker whose candidacy expired (its Redis link stalled) stated is forgotten.
   */
  forgetStatedHistory?: boolean;
}
