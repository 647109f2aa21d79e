import { YakError } from '../../broker-runtime/src/errors/errors.js';
import type { CoordinatorHost } from '../../broker-runtime/src/groups/coordinator.js';

/**
 * A coordinator host with nothing behind it (an empty offsets topic, one partition at offset 0, a
 * fixed clock, appends accepted and dropped): for tests of what the coordinator refuses or answers
 * before any state matters.
 */
export function idleCoordinatorHost(): CoordinatorHost {
  return {
    now: () => 1_000_000,
    append: async () => {},
    readOffsetsTopic: async function* () {},
    partitionCount: () => 1,
    highWatermark: () => 0,
    logStartOffset: () => 0,
    offsetForTimestamp: async () => 0,
    notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'),
    log: () => {},
  };
}
