/**
 * Rules the simulator can turn back to what they were before a bug was fixed, or break on purpose,
 * to show its checker catches the result (test/sim/config.ts, MUTATIONS). All off in production:
 * an empty object is the rules as they are.
 */
export interface ReplicationRules {
  /** hwm-ignores-followers: the leader commits on its own log end alone. */
  hwmIgnoresFollowers?: boolean;
  /** revert-A: an in-sync set expansion whose write failed (outcome unknown) stops counting the follower. */
  dropUnknownExpansion?: boolean;
  /** skip-divergence-check: after a mismatch, trust the follower's log end as if its records were the leader's. */
  skipDivergenceCheck?: boolean;
  /** revert-E: a follower cuts at `truncateTo` whatever it holds there, conflict or not. */
  cutWhenTold?: boolean;
}
