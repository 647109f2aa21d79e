import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ClusterEvent, ClusterSnapshot } from '../../../src/shared/cluster-api.js';
import { startDesktopCluster, type DesktopCluster } from '../../helpers/desktop-cluster.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * A broker's port taken by another program while the broker is down (a browser's or a test's
 * connection, another server): the restart must not fail on it. Real supervisor, real brokers.
 */
describe('A broker whose port was taken while it was down', () => {
  let cluster: DesktopCluster;
  const events: ClusterEvent[] = [];
  const holders: Array<{ close(): void }> = [];

  const snapshot = () => cluster.sup.getSnapshot();
  const broker = (s: ClusterSnapshot, id: string) => s.brokers.find((b) => b.id === id)!;
  const settled = (s: ClusterSnapshot) => s.brokers.every((b) => b.reachable && b.inSync) && s.brokers.filter((b) => b.role === 'leader').length === 1;
  const eventsSince = (seq: number) => events.filter((e) => e.seq > seq);
  const lastSeq = () => events.at(-1)?.seq ?? 0;
  const explain = (seq: number) => eventsSince(seq).map((e) => `${e.kind}: ${e.message}`).join('\n');

  before(async () => {
    cluster = await startDesktopCluster(2);
    cluster.sup.onEvent((e) => events.push(e));
  });

  after(async () => {
    for (const h of holders) h.close();
    await cluster.stop();
  });

  it('restarts on a new port when a listening socket took its HTTP port, and says so', async () => {
    const before = broker(await snapshot(), 'broker-2');
    const seq = lastSeq();
    await cluster.sup.brokerAction('broker-2', 'stop');
    holders.push(await listenOn(before.port));

    await cluster.sup.brokerAction('broker-2', 'start');
    const moved = await waitFor('broker-2 back in sync on another port', async () => {
      const s = await snapshot();
      const b = broker(s, 'broker-2');
      return settled(s) && b.port !== before.port ? b : null;
    }, 30_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\nactivity log:\n${explain(seq)}`);
    });
    assert.equal(moved.url, `http://127.0.0.1:${moved.port}`);
    assert.equal(moved.process.port, moved.port);
    assert.equal(moved.kafkaPort, before.kafkaPort, 'the Kafka port was free: it stays');
    const said = eventsSince(seq).find((e) => e.brokerId === 'broker-2' && e.message.includes(`port ${before.port}`) && e.message.includes(String(moved.port)));
    assert.ok(said, `the activity log names the taken port and the new one:\n${explain(seq)}`);
    assert.ok(!eventsSince(seq).some((e) => e.kind === 'process-exited' && e.brokerId === 'broker-2' && /crashed/.test(e.message)), explain(seq));
  });

  it('restarts on a new Kafka port when a connected socket is bound to it; the bootstrap servers follow', async () => {
    await waitFor('settled', async () => settled(await snapshot()), 30_000, 200);
    const s = await snapshot();
    const before = broker(s, 'broker-2');
    const seq = lastSeq();
    await cluster.sup.brokerAction('broker-2', 'stop');
    // An outgoing connection whose local port is the broker's Kafka port: what a busy machine's
    // ephemeral ports do when the broker's port lies in their range.
    holders.push(await connectFrom(before.kafkaPort, broker(s, 'broker-1').port));

    await cluster.sup.brokerAction('broker-2', 'restart');
    const moved = await waitFor('broker-2 back in sync on another Kafka port', async () => {
      const now = await snapshot();
      const b = broker(now, 'broker-2');
      return settled(now) && b.kafkaPort !== before.kafkaPort ? b : null;
    }, 30_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\nactivity log:\n${explain(seq)}`);
    });
    assert.equal(moved.port, before.port, 'the HTTP port was free: it stays');
    const access = await cluster.sup.kafkaAccess();
    assert.ok(access.bootstrap.split(',').includes(`127.0.0.1:${moved.kafkaPort}`), access.bootstrap);
    assert.ok(!access.bootstrap.split(',').includes(`127.0.0.1:${before.kafkaPort}`), access.bootstrap);
    const said = eventsSince(seq).find((e) => e.brokerId === 'broker-2' && e.message.includes(`port ${before.kafkaPort}`) && e.message.includes(String(moved.kafkaPort)));
    assert.ok(said, `the activity log names the taken Kafka port and the new one:\n${explain(seq)}`);
  });

  it('starts it again on a new port when the port is taken after the check, before the broker listens', async (t) => {
    await waitFor('settled', async () => settled(await snapshot()), 30_000, 200);
    const before = broker(await snapshot(), 'broker-2');
    const seq = lastSeq();
    await cluster.sup.brokerAction('broker-2', 'stop');
    await cluster.sup.brokerAction('broker-2', 'start');
    // The supervisor checked the port and spawned the broker, which needs a few hundred ms of
    // Node start-up before its listen: taking the port now makes its listen fail.
    const holder = await listenOn(before.port).catch(() => null);
    if (!holder) return t.skip('the broker was listening already: the race did not happen');
    holders.push(holder);
    const moved = await waitFor('broker-2 back in sync on another port', async () => {
      const s = await snapshot();
      const b = broker(s, 'broker-2');
      return settled(s) && b.port !== before.port ? b : null;
    }, 30_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\nactivity log:\n${explain(seq)}`);
    });
    const log = eventsSince(seq);
    const crashed = log.findIndex((e) => e.kind === 'process-exited' && e.brokerId === 'broker-2' && e.message.includes(`port ${before.port} on 127.0.0.1 is already in use`));
    const said = log.findIndex((e) => e.brokerId === 'broker-2' && e.message.includes(`port ${before.port} was taken`) && e.message.includes(String(moved.port)));
    assert.ok(crashed >= 0 && said > crashed, `the log shows the failed listen, then the move:\n${explain(seq)}`);
  });

  it('refuses to start Redis on a port another program took, says why, and starts it once the port is free', async () => {
    const before = await snapshot();
    const port = Number(new URL(before.redis.url!).port);
    const seq = lastSeq();
    await cluster.sup.brokerAction('redis', 'stop');
    const holder = await listenOn(port);
    holders.push(holder);

    // Moving Redis would strand the brokers on its old URL (--redis): the answer is an error that says what to do.
    await assert.rejects(cluster.sup.brokerAction('redis', 'start'), new RegExp(`port ${port} was taken by another program.*stop and start the cluster`));
    assert.ok(eventsSince(seq).some((e) => e.kind === 'error' && e.message.includes(`port ${port}`)), explain(seq));
    assert.notEqual((await snapshot()).redis.process?.state, 'running');

    await new Promise<void>((resolve) => holder.close(() => resolve()));
    await cluster.sup.brokerAction('redis', 'start');
    await waitFor('the cluster settled again with Redis back', async () => settled(await snapshot()), 30_000, 200);
    assert.equal((await snapshot()).redis.url, before.redis.url);
  });
});

/** A server listening on 127.0.0.1:port (what another program's server does). */
function listenOn(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * A connection to `to` whose local port is `from`, bound the way the kernel binds an outgoing
 * connection's ephemeral port: without SO_REUSEADDR. Node's own `localPort` sets SO_REUSEADDR
 * (libuv does on every bind), and a listen with SO_REUSEADDR beside such a socket succeeds, so
 * it would not show the problem; perl (perl-base, on every Debian) binds plainly.
 */
async function connectFrom(from: number, to: number): Promise<{ close(): void }> {
  const script = 'use IO::Socket::INET; $| = 1; my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0], PeerAddr => "127.0.0.1", PeerPort => $ARGV[1], Proto => "tcp") or die "connect: $@\\n"; print "connected\\n"; <STDIN>;';
  const child = spawn('perl', ['-e', script, String(from), String(to)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  await waitFor(`a connection from port ${from}`, () => {
    if (child.exitCode !== null) throw new Error(`perl exited: ${output.join('')}`);
    return output.join('').includes('connected');
  }, 10_000, 50);
  return { close: () => child.kill('SIGKILL') };
}
