import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FramePoster } from '../../../broker-runtime/src/replication/transport.js';
import { decodeFrame } from '../../../broker-runtime/src/replication/wire.js';
import { Cluster, LAG_MS, RENEW_MS } from './replication-harness.js';

/**
 * A man in the middle between the leader and follower b2 (no TLS): it passes heartbeats on, but
 * keeps every frame carrying records from b2 and answers it itself, "ok, my log ends where yours
 * does", built from b2's last genuine answer. Before followers signed their answers the leader
 * believed it: b2 counted in sync, and records only the leader held were committed (acknowledged).
 * This file imports nothing of answer-auth.ts, so it runs unchanged against the code before it.
 */
type Forgery = 'strip' | 'replay-trailer';

function manInTheMiddle(c: Cluster, victim: string, forgery: Forgery): { dropped: number } {
  const inner = c.transport;
  const seen = { dropped: 0 };
  let lastGenuine: Buffer | null = null;
  const proxy: FramePoster = {
    post: async (baseUrl, path, body, timeoutMs, headers) => {
      if (new URL(baseUrl).hostname !== victim) return inner.post(baseUrl, path, body, timeoutMs, headers);
      const { header } = decodeFrame(body);
      const records = header.parts.some((p) => p.length > 0);
      if (!records || lastGenuine === null) {
        const answer = await inner.post(baseUrl, path, body, timeoutMs, headers);
        lastGenuine = answer;
        return answer;
      }
      seen.dropped++;
      const text = lastGenuine.toString('latin1');
      const cut = text.lastIndexOf('\n');
      const json = JSON.parse(cut >= 0 ? text.slice(0, cut) : text) as { parts: { logEndOffset: number; status: string }[] };
      const leaderEnd = c.replicas.get('b1')!.log.logEndOffset();
      json.parts = header.parts.map(() => ({ ...json.parts[0]!, status: 'ok', logEndOffset: leaderEnd }));
      const forged = JSON.stringify(json);
      return Buffer.from(forgery === 'replay-trailer' && cut >= 0 ? forged + text.slice(cut) : forged, 'latin1');
    },
  };
  c.transport = proxy;
  return seen;
}

describe('replication: a forged answer from a man in the middle commits nothing', () => {
  for (const forgery of ['strip', 'replay-trailer'] as const) {
    test(`an answer claiming records the follower never got (${forgery}) is refused: nothing is committed on its word, and it is logged`, async () => {
      const c = new Cluster();
      const b1 = c.add('b1');
      const b2 = c.add('b2');
      const mitm = manInTheMiddle(c, 'b2', forgery);
      const rep = c.lead(b1, 1, ['b1', 'b2'], {}, 2);
      await c.time.advance(RENEW_MS); // heartbeats pass: b2's genuine answers
      c.append(b1, rep, ['a', 'b', 'c']);
      await c.time.advance(LAG_MS / 4);
      assert.ok(mitm.dropped > 0, 'the man in the middle kept frames from b2');
      assert.deepEqual(b2.held(), [], 'b2 never got the records');
      assert.equal(b1.log.highWatermark(), 0, 'not committed: only the leader holds the records');
      const refused = c.lines.filter((l) => l.startsWith('warn refused an answer from follower b2'));
      assert.equal(refused.length, 1, `logged once:\n${c.lines.join('\n')}`);
    });
  }

  test('an older follower, which answers unsigned, is still believed (rolling upgrade), and it is said once', async () => {
    const c = new Cluster();
    const b1 = c.add('b1');
    c.add('b2');
    const inner = c.transport;
    // What an older follower answers: the JSON alone, whatever the frame asked.
    c.transport = {
      post: async (...args) => {
        const text = (await inner.post(...args)).toString('latin1');
        const cut = text.lastIndexOf('\n');
        return Buffer.from(cut >= 0 ? text.slice(0, cut) : text, 'latin1');
      },
    };
    const rep = c.lead(b1, 1, ['b1', 'b2'], {}, 2);
    await c.time.advance(RENEW_MS);
    c.append(b1, rep, ['a', 'b']);
    await c.time.advance(RENEW_MS);
    assert.equal(b1.log.highWatermark(), 2);
    assert.equal(c.lines.filter((l) => l.includes('answers unsigned')).length, 1);
  });
});
