import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { checkedNumberText, parseCheckedNumber } from '../../../broker-runtime/src/log/checkpoint-checksum.js';
import { HIGH_WATERMARK_FILE, highWatermarkText } from '../../../broker-runtime/src/log/high-watermark.js';
import { EPOCH_CHECKPOINT_FILE, LeaderEpochCache, checkEntries, endOffsetForEpoch, epochCheckpointText } from '../../../broker-runtime/src/log/leader-epoch-cache.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import { segmentFileName } from '../../../broker-runtime/src/log/log-segment.js';
import type { FilePartitionLog } from '../../../broker-runtime/src/log/partition-log.js';
import type { EpochEntry, LogOptions } from '../../../broker-runtime/src/log/types.js';
import { UNCLEAN_FILE, UncleanMarker, parseUnclean, uncleanText, type UncleanState } from '../../../broker-runtime/src/log/unclean-marker.js';
import { logOptions, recs, tempDir } from './helpers.js';

/**
 * The checkpoint files of a partition folder carry a CRC-32: a bit flipped in one while the broker
 * is stopped is told from a value written on purpose, and read as missing (high-water mark, epoch
 * cache) or as cautiously as can be (unclean mark) — never acted on. Old files without a checksum
 * still load.
 */

/** Every text one bit away from `text` (each bit of each byte). */
function* singleBitFlips(text: string): Generator<string> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ (1 << bit);
      yield copy.toString('latin1');
    }
  }
}

describe('checkpoint checksums: parse, serialize, damage', () => {
  it('a number checkpoint: v1 <value> <crc32>, read back; a bare number is the old format', () => {
    assert.equal(checkedNumberText(150), 'v1 150 1577100463\n');
    assert.deepEqual(parseCheckedNumber(checkedNumberText(150)), { form: 'checked', value: 150 });
    assert.deepEqual(parseCheckedNumber(checkedNumberText(0)), { form: 'checked', value: 0 });
    assert.deepEqual(parseCheckedNumber('150\n'), { form: 'bare', value: 150 });
    for (const text of ['', 'garbage', 'v1 150', 'v1 150 1', 'v2 150 3193030451', '-3', '99999999999999999']) assert.deepEqual(parseCheckedNumber(text), { form: 'damaged' }, text);
  });

  it('a number checkpoint: no single flipped bit reads as another value', () => {
    for (const value of [0, 7, 150, 1_234_567, 2 ** 40]) {
      for (const flipped of singleBitFlips(highWatermarkText(value))) {
        const parsed = parseCheckedNumber(flipped);
        assert.ok(parsed.form === 'damaged' || (parsed.form === 'checked' && parsed.value === value), `${JSON.stringify(flipped)} read as ${JSON.stringify(parsed)}`);
      }
    }
  });

  it('the epoch checkpoint: version 2 with a crc32 of its epochs; version 1 (none) still loads', () => {
    const entries: EpochEntry[] = [
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 100 },
      { epoch: 7, startOffset: 150 },
    ];
    const text = epochCheckpointText(entries);
    assert.match(text, /^\{"version":2,"epochs":\[.*\],"crc32":\d+\}\n$/);
    assert.deepEqual(checkEntries(JSON.parse(text)), entries);
    assert.deepEqual(checkEntries({ version: 1, epochs: entries }), entries, 'the old format');
    assert.match(checkEntries({ version: 2, epochs: entries }) as string, /^damaged/);
    assert.match(checkEntries({ ...JSON.parse(text), epochs: [entries[0], { epoch: 3, startOffset: 900 }, entries[2]] }) as string, /^damaged: its checksum fails/);
    // A version 1 file that carries a checksum (a flipped version digit) is checked all the same.
    assert.match(checkEntries({ ...JSON.parse(text), version: 1, epochs: [{ epoch: 1, startOffset: 8 }, entries[1], entries[2]] }) as string, /^damaged/);
    for (const flipped of singleBitFlips(text)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(flipped);
      } catch {
        continue; // not JSON: unusable, rebuilt from the records
      }
      const result = checkEntries(parsed);
      assert.ok(typeof result === 'string' || JSON.stringify(result) === JSON.stringify(entries), `${flipped.trim()} read as ${JSON.stringify(result)}`);
    }
  });

  it('the unclean mark: a crc32 over the rest; no flipped bit lowers what it asks for', () => {
    const state: UncleanState = { cutAt: 120, until: 150, reason: 'record 120 fails its crc check', logStartUntil: 40, since: '2026-11-29T17:00:00.000Z' };
    const text = uncleanText(state);
    assert.deepEqual(parseUnclean(text), state);
    assert.deepEqual(parseUnclean(JSON.stringify(state)), state, 'the old format (no checksum)');
    assert.equal(parseUnclean('{ torn'), 'unreadable');
    for (const flipped of singleBitFlips(text)) {
      const parsed = parseUnclean(flipped);
      if (parsed === 'unreadable' || 'damaged' in parsed) continue;
      assert.equal(parsed.until, state.until, flipped);
      assert.equal(parsed.cutAt, state.cutAt, flipped);
      assert.equal(parsed.logStartUntil, state.logStartUntil, flipped);
    }
  });
});

describe('the loader and a damaged checkpoint', () => {
  const small: Partial<LogOptions> = { segmentBytes: 600, indexIntervalBytes: 100 };
  let root: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir: root, cleanup } = await tempDir());
    dir = join(root, 't-0');
  });
  afterEach(async () => cleanup());

  async function open(options: Partial<LogOptions> = {}): Promise<{ log: FilePartitionLog; lines: string[] }> {
    const lines: string[] = [];
    const log = await openPartitionLog(dir, 't', 0, logOptions({ ...options, logger: (line, level) => lines.push(`${level ?? 'info'}: ${line}`) }));
    return { log, lines };
  }

  /** `count` records, epoch 1 up to `epoch2At` and epoch 2 from there, committed up to `committed`, closed cleanly. */
  async function written(count: number, committed: number, epoch2At = count, options: Partial<LogOptions> = {}): Promise<void> {
    const { log } = await open(options);
    for (let i = 0; i < count; i += 4) await log.append(recs(i, Math.min(4, count - i)), i < epoch2At ? 1 : 2);
    log.setHighWatermark(committed);
    await log.close();
  }

  it('the high-water mark checkpoint is written with its checksum, and read back', async () => {
    await written(20, 15);
    assert.equal(await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8'), highWatermarkText(15));
    const { log } = await open();
    assert.equal(log.highWatermark(), 15);
    await log.close();
  });

  it('a bit flipped in the high-water mark past the log end: ignored with a warning, not unclean, rewritten at the next flush', async () => {
    await written(150, 150);
    // '1' -> '9': 950, past the log end. Before the checksum this marked the partition unclean until 950.
    await writeFile(join(dir, HIGH_WATERMARK_FILE), highWatermarkText(150).replace('v1 150', 'v1 950'));
    const { log, lines } = await open();
    assert.equal(log.unclean(), false, lines.join('\n'));
    assert.equal(log.highWatermark(), 0, 'from the log start: re-advanced by the leader');
    assert.ok(lines.some((l) => l.startsWith('warn: ') && l.includes(join(dir, HIGH_WATERMARK_FILE)) && l.includes('damaged')), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('UNCLEAN')), lines.join('\n'));
    await log.flush();
    assert.equal(await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8'), highWatermarkText(0), 'the damaged file is replaced');
    log.setHighWatermark(150);
    await log.close();
    assert.equal(await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8'), highWatermarkText(150));
  });

  it('a bit flipped in the high-water mark inside the log: not taken (no uncommitted record shown as committed)', async () => {
    await written(150, 100);
    await writeFile(join(dir, HIGH_WATERMARK_FILE), highWatermarkText(100).replace('v1 100', 'v1 140'));
    const { log } = await open();
    assert.equal(log.highWatermark(), 0);
    await log.close();
  });

  it('a checked high-water mark past the log end is still evidence of lost records: unclean', async () => {
    await written(20, 20);
    await writeFile(join(dir, HIGH_WATERMARK_FILE), highWatermarkText(30));
    const { log, lines } = await open();
    assert.equal(log.unclean(), true);
    assert.ok(lines.some((l) => l.includes('high-water mark checkpoint 30 is past the log end 20')), lines.join('\n'));
    await log.close();
  });

  it('an old bare high-water mark still loads, and is rewritten with its checksum at the next write', async () => {
    await written(20, 10);
    await writeFile(join(dir, HIGH_WATERMARK_FILE), '10\n');
    const { log } = await open();
    assert.equal(log.highWatermark(), 10);
    log.setHighWatermark(12);
    await log.close();
    assert.equal(await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8'), highWatermarkText(12));
  });

  it('a damaged high-water mark and a corrupt last record: unclean (it may have been committed), not cut silently', async () => {
    await written(20, 20);
    await writeFile(join(dir, HIGH_WATERMARK_FILE), 'v1 20 1\n');
    const path = join(dir, segmentFileName(0, '.log'));
    const bytes = await readFile(path);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x01;
    await writeFile(path, bytes);
    const { log, lines } = await open();
    assert.equal(log.unclean(), true, lines.join('\n'));
    assert.equal(log.logEndOffset(), 19);
    assert.ok(lines.some((l) => l.includes('high-water mark checkpoint is damaged (it may have been committed)')), lines.join('\n'));
    await log.close();
  });

  it('a bit flipped in an epoch start past the log end: rebuilt from the records with a warning, not unclean', async () => {
    await written(150, 150, 100);
    const path = join(dir, EPOCH_CHECKPOINT_FILE);
    const text = await readFile(path, 'utf8');
    assert.equal(text, epochCheckpointText([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 100 }]));
    await writeFile(path, text.replace('"startOffset":100', '"startOffset":900'));
    const { log, lines } = await open();
    assert.equal(log.unclean(), false, lines.join('\n'));
    assert.deepEqual(log.epochs(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 100 }]);
    assert.ok(lines.some((l) => l.startsWith('warn: ') && l.includes(path) && l.includes('checksum fails')), lines.join('\n'));
    await log.close();
    assert.equal(await readFile(path, 'utf8'), text, 'rewritten');
  });

  it('a bit flipped in an epoch start inside a closed segment (not compared with the records after a clean stop): rebuilt, the right end offset answered', async () => {
    await written(60, 60, 24, small);
    const path = join(dir, EPOCH_CHECKPOINT_FILE);
    const text = await readFile(path, 'utf8');
    // 24 -> 28 (bit 0x04 of the '4'): still inside the closed segments, so only the checksum tells.
    await writeFile(path, text.replace('"startOffset":24', '"startOffset":28'));
    const { log } = await open({ ...small });
    assert.deepEqual(log.epochs(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 24 }]);
    assert.deepEqual(endOffsetForEpoch(log.epochs(), 1, log.logEndOffset()), { epoch: 1, endOffset: 24 }, 'epoch 1 ended at 24, not 28: a follower with epoch-1 records at 24..27 cuts them');
    await log.close();
  });

  it('an old (version 1) epoch checkpoint still loads, and is rewritten with its checksum at the next write', async () => {
    await written(20, 20);
    const path = join(dir, EPOCH_CHECKPOINT_FILE);
    await writeFile(path, JSON.stringify({ version: 1, epochs: [{ epoch: 1, startOffset: 0 }] }) + '\n');
    const loaded = await LeaderEpochCache.load(dir);
    assert.ok(loaded instanceof LeaderEpochCache);
    const { log } = await open();
    await log.append(recs(20, 2), 5);
    await log.close();
    assert.equal(await readFile(path, 'utf8'), epochCheckpointText([{ epoch: 1, startOffset: 0 }, { epoch: 5, startOffset: 20 }]));
  });

  it('a damaged unclean mark stays set, asking for no less than the file shows, the high-water mark checkpoint and the log end', async () => {
    await written(20, 20);
    // A mark from an earlier open asking for offset 30, a bit flipped after it was written (30 -> 38).
    const mark = uncleanText({ cutAt: 18, until: 30, reason: 'test', since: '2026-11-29T17:00:00.000Z' });
    await writeFile(join(dir, UNCLEAN_FILE), mark.replace('"until":30', '"until":38'));
    const { log, lines } = await open();
    assert.equal(log.unclean(), true);
    assert.ok(lines.some((l) => l.startsWith('warn: ') && l.includes(UNCLEAN_FILE) && l.includes('damaged') && l.includes('offset 38')), lines.join('\n'));
    await log.close();
  });

  it('a damaged unclean mark whose numbers are lowered: asks at least for the fallback (the loader gives the high-water mark checkpoint and the log end)', async () => {
    await written(20, 20);
    await writeFile(join(dir, HIGH_WATERMARK_FILE), highWatermarkText(25)); // records 20..24 were committed and lost
    const mark = uncleanText({ cutAt: 18, until: 30, reason: 'test', since: '2026-11-29T17:00:00.000Z', logStartUntil: 4 });
    await writeFile(join(dir, UNCLEAN_FILE), mark.replace('"until":30', '"until":10'));
    const warnings: string[] = [];
    const marker = await UncleanMarker.load(dir, 25, () => undefined, (l) => warnings.push(l));
    assert.equal(marker.current?.until, 25);
    assert.equal(marker.current?.logStartUntil, 4);
    assert.equal(warnings.length, 1);
    const { log } = await open();
    assert.equal(log.unclean(), true);
    await log.close();
  });
});
