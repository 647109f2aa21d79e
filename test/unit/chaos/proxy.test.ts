import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TcpProxy } from '../../../chaos/proxy.js';
import { connectionOwner } from '../../../chaos/socket-owner.js';

/** An echo server on loopback: what a proxy forwards comes straight back. */
function echoServer(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => {
    s.on('error', () => {}); // the proxy resets connections on purpose
    s.pipe(s);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port })));
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Send `text` and wait (at most `ms`) for it to come back; resolves what arrived and when. */
function roundTrip(s: net.Socket, text: string, ms = 1000): Promise<{ got: string; ms: number; closed: boolean }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let got = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      s.off('data', onData);
      resolve({ got, ms: Date.now() - started, closed });
    };
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) done(false);
    };
    const timer = setTimeout(() => done(false), ms);
    s.on('data', onData);
    s.once('close', () => done(true));
    s.once('error', () => done(true));
    s.write(text);
  });
}

describe('chaos TCP proxy', () => {
  let echo: { server: net.Server; port: number };
  let proxy: TcpProxy;
  let source = 'b2';
  before(async () => {
    echo = await echoServer();
    proxy = await TcpProxy.start({ name: 'test', targetPort: echo.port, identify: async () => source });
  });
  after(async () => {
    await proxy.close();
    echo.server.close();
  });

  it('forwards both ways while ok', async () => {
    const s = await connect(proxy.port);
    assert.equal((await roundTrip(s, 'hello')).got, 'hello');
    s.destroy();
  });

  it('delay: bytes arrive late, in order', async () => {
    const s = await connect(proxy.port);
    proxy.set({ kind: 'delay', ms: 150 });
    const r = await roundTrip(s, 'slow and steady');
    assert.equal(r.got, 'slow and steady');
    assert.ok(r.ms >= 280, `two delayed hops took ${r.ms} ms`);
    proxy.heal();
    s.destroy();
  });

  it('delay with a stall: a chunk held one retransmission timeout longer (here every one), still in order', async () => {
    const s = await connect(proxy.port);
    proxy.set({ kind: 'delay', ms: 10, stall: { probability: 1, ms: 200 } });
    const r = await roundTrip(s, 'lost and retransmitted');
    assert.equal(r.got, 'lost and retransmitted');
    assert.ok(r.ms >= 2 * 210 - 5, `two stalled hops took ${r.ms} ms`);
    assert.match(proxy.describe(), /delay10~1x200/);
    proxy.heal();
    s.destroy();
  });

  it('black-hole: nothing arrives while cut; what was held is delivered when healed', async () => {
    const s = await connect(proxy.port);
    proxy.set({ kind: 'blackhole' });
    const cut = await roundTrip(s, 'held', 300);
    assert.equal(cut.got, '');
    assert.equal(cut.closed, false, 'the connection stays open');
    const late = new Promise<string>((resolve) => s.once('data', (d) => resolve(d.toString())));
    proxy.heal();
    assert.equal(await late, 'held');
    s.destroy();
  });

  it('drop: open connections are reset and new ones refused', async () => {
    const s = await connect(proxy.port);
    assert.equal((await roundTrip(s, 'a')).got, 'a');
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.on('error', () => {});
    proxy.set({ kind: 'drop' });
    await closed;
    const fresh = await connect(proxy.port).catch(() => null);
    if (fresh) assert.equal((await roundTrip(fresh, 'b', 500)).closed, true, 'a new connection is closed at once');
    proxy.heal();
  });

  it('rules apply per source: cutting b2 leaves b3 alone', async () => {
    proxy.set({ kind: 'drop' }, ['b2']);
    source = 'b3';
    const s = await connect(proxy.port);
    assert.equal((await roundTrip(s, 'b3 gets through')).got, 'b3 gets through');
    source = 'b2';
    const cut = await connect(proxy.port).catch(() => null);
    if (cut) assert.equal((await roundTrip(cut, 'x', 500)).closed, true);
    assert.equal(proxy.describe(), 'b2:drop');
    proxy.heal();
    s.destroy();
  });

  it('finds which process opened a loopback connection (Linux /proc)', { skip: !existsSync('/proc/net/tcp') && 'no /proc/net/tcp here' }, async () => {
    const seen = new Promise<string | undefined>((resolve) => {
      const srv = net.createServer((sock) => {
        void connectionOwner((srv.address() as net.AddressInfo).port, sock.remotePort!, new Map([[process.pid, 'me']])).then((who) => {
          sock.destroy();
          srv.close();
          resolve(who);
        });
      });
      srv.listen(0, '127.0.0.1', () => void connect((srv.address() as net.AddressInfo).port).then((c) => c.on('error', () => {})));
    });
    assert.equal(await seen, 'me');
  });
});
