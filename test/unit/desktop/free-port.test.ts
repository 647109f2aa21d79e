import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, portIsFree, portRangeBelow, portRangeFromEnv, readAppPortRange } from '../../../src/main/supervisor/processes/free-port.js';
import { tempDir, type TempDir } from '../../../testkit/temp-dir.js';

/** The desktop app's ports: below the OS's ephemeral range, where no outgoing connection lands. */
describe('the app port range', () => {
  let dir: TempDir;
  before(async () => (dir = await tempDir('yak-free-port-')));
  after(() => dir.cleanup());

  it('is everything from 10000 up to just below the ephemeral range', () => {
    assert.deepEqual(portRangeBelow('32768\t60999\n'), { low: 10_000, high: 32_767 });
    assert.deepEqual(portRangeBelow('49152 65535'), { low: 10_000, high: 49_151 });
  });

  it('is YAK_PORT_RANGE when set (npm test gives the UI suite its own share), and a malformed one is refused', () => {
    assert.equal(portRangeFromEnv(undefined), null);
    assert.equal(portRangeFromEnv(''), null);
    assert.deepEqual(portRangeFromEnv('25000-32767'), { low: 25_000, high: 32_767 });
    for (const bad of ['25000', '32767-25000', '80-1000', '25000-70000', 'a-b']) assert.throws(() => portRangeFromEnv(bad), /YAK_PORT_RANGE/, bad);
  });

  it('is none (the OS picks, listen(0)) when the ephemeral range leaves no room below it or cannot be read', async () => {
    assert.equal(portRangeBelow('1024 65535'), null);
    assert.equal(portRangeBelow('10500 65535'), null);
    assert.equal(portRangeBelow(''), null);
    assert.equal(portRangeBelow('not numbers'), null);
    assert.equal(readAppPortRange(join(dir.dir, 'no-such-file')), null);
    const file = join(dir.dir, 'ip_local_port_range');
    await writeFile(file, '40000\t60999\n');
    assert.deepEqual(readAppPortRange(file), { low: 10_000, high: 39_999 });
  });

  it('hands out free ports inside the range, never one of `taken`', async () => {
    const range = { low: 20_000, high: 20_009 };
    const taken = new Set([20_000, 20_001, 20_002]);
    for (let i = 0; i < 5; i++) {
      const port = await freePort(taken, range);
      assert.ok(port >= range.low && port <= range.high, `${port} in ${range.low}-${range.high}`);
      assert.ok(!taken.has(port));
      assert.equal(await portIsFree(port), true);
    }
  });

  it('falls back to the OS when every port of the range is taken', async () => {
    const range = { low: 20_010, high: 20_011 };
    const port = await freePort(new Set([20_010, 20_011]), range);
    assert.ok(port > 0 && port !== 20_010 && port !== 20_011);
    assert.ok((await freePort(new Set(), null)) > 0, 'no range: listen(0)');
  });

  it('sees a port another program listens on as not free', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      assert.equal(await portIsFree(port), false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    assert.equal(await portIsFree(port), true);
  });
});
