import type { PartitionLog } from '../log/types.js';

/**
 * Why this broker must not lead while partitions are unclean (null when none is), for the
 * elector's refusal log: which partitions, what is missing, and what ends it. An unclean partition
 * lost committed records it found damaged at start-up (log/unclean-marker.ts); only a leader's
 * records bring them back, so another broker has to lead first.
 */
export function uncleanRefusal(logs: readonly Pick<PartitionLog, 'topic' | 'partition' | 'unclean' | 'uncleanState'>[], maxExamples = 3): string | null {
  const unclean = logs.filter((l) => l.unclean());
  if (unclean.length === 0) return null;
  const examples = unclean.slice(0, maxExamples).map((l) => {
    const s = l.uncleanState?.();
    if (!s) return `${l.topic}/${l.partition}`;
    const front = s.logStartUntil ? `, and a leader's log start past ${s.logStartUntil}` : '';
    // The first cause only (a mark widened later adds its own after '; '): the UNCLEAN lines at start-up have them all.
    const cause = s.reason.split('; ')[0]!;
    return `${l.topic}/${l.partition} (cut at ${s.cutAt}: ${cause.length > 120 ? `${cause.slice(0, 119)}…` : cause}; needs records up to ${s.until} again${front})`;
  });
  const more = unclean.length > maxExamples ? ` and ${unclean.length - maxExamples} more` : '';
  return (
    `${unclean.length} partition(s) here are unclean, ${examples.join(', ')}${more}: committed records were cut off as damaged at start-up, ` +
    'so this broker follows until it has re-fetched them from a leader (another in-sync broker must lead first: start one; ' +
    '--unclean-election on one broker forces it, and may lose acknowledged records)'
  );
}
