import { MAX_LEADER_EPOCH } from '../log/record-codec.js';

export { MAX_LEADER_EPOCH };

/**
 * A leader epoch the log can store: 1..2^32-1 (records carry it as a u32). Every epoch that comes
 * from outside this process (a replication frame, Redis, a state file written by an older version)
 * passes through here before it is remembered, written or acted on: one out-of-range epoch once
 * made every later produce fail with a RangeError, on every broker, across restarts.
 */
export function isStorableEpoch(epoch: unknown): epoch is number {
  return Number.isSafeInteger(epoch) && (epoch as number) >= 1 && (epoch as number) <= MAX_LEADER_EPOCH;
}

/** `epoch` if storable, else 0 (as if none was seen): what to keep of a value read from outside. */
export function storableOrZero(epoch: unknown): number {
  return isStorableEpoch(epoch) ? epoch : 0;
}
