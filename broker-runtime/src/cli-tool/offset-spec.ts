import { UsageError } from './usage-error.js';

/** Where a consume starts in each partition (kcat's -o). */
export type OffsetSpec =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'absolute'; offset: number }
  /** This many records before the end (the partition's high-water mark). */
  | { kind: 'from-end'; count: number };

export function parseOffsetSpec(text: string | undefined): OffsetSpec {
  if (text === undefined || text === 'beginning' || text === 'earliest') return { kind: 'beginning' };
  if (text === 'end' || text === 'latest') return { kind: 'end' };
  if (/^s@/.test(text) || /^e@/.test(text)) {
    throw new UsageError(`--offset ${text}: consuming from a timestamp needs a broker API YAK does not have yet (GET /consume takes offsets only); use beginning, end, N or -N`);
  }
  const m = /^(-?)(\d+)$/.exec(text);
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(n)) throw new UsageError(`--offset must be beginning, end, an offset N or -N (N before the end); got '${text}'`);
  return m[1] ? { kind: 'from-end', count: n } : { kind: 'absolute', offset: n };
}

/** The first offset to read in a partition whose high-water mark is `highWatermark`. */
export function startOffset(spec: OffsetSpec, highWatermark: number): number {
  switch (spec.kind) {
    case 'beginning':
      return 0;
    case 'end':
      return highWatermark;
    case 'absolute':
      return spec.offset;
    case 'from-end':
      return Math.max(0, highWatermark - spec.count);
  }
}
