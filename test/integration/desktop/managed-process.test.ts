import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManagedProcess, type ExitInfo, type ProcessSpec } from '../../../src/main/supervisor/processes/managed-process.js';
import { pidAlive } from '../../helpers/desktop.js';
import { waitFor } from '../../../testkit/wait.js';

function nodeProcess(script: string) {
  const exits: ExitInfo[] = [];
  const started: string[] = [];
  const spec: ProcessSpec = { name: 'p', kind: 'broker', command: process.execPath, args: ['-e', script], env: process.env, port: null };
  const proc = new ManagedProcess(spec, { onStarted: (i) => started.push(`${i.name}:${i.pid}`), onExit: (e) => exits.push(e) });
  return { proc, exits, started };
}

describe('ManagedProcess: one supervised child', () => {
  it('keeps its last 500 lines and reports an unexpected exit with its code and last words', async () => {
    const { proc, exits, started } = nodeProcess('for (let i = 0; i < 600; i++) console.log("line " + i); console.error("bye"); process.exitCode = 3');
    proc.start();
    await waitFor('exit', () => exits.length === 1);
    assert.equal(started.length, 1);
    assert.deepEqual(
      { code: exits[0]!.code, expected: exits[0]!.expected, state: exits[0]!.state },
      { code: 3, expected: false, state: 'crashed' },
    );
    const out = proc.output.snapshot();
    assert.ok(out.length <= 500);
    assert.ok(out.includes('bye'));
    assert.ok(out.includes('line 599'));
    assert.ok(!out.includes('line 0'), 'the oldest lines are dropped');
    assert.equal(proc.info().state, 'crashed');
    assert.equal(proc.info().exitCode, 3);
  });

  it('stop: SIGTERM, then SIGKILL after the grace period for a process that ignores SIGTERM', async () => {
    const { proc, exits } = nodeProcess('process.on("SIGTERM", () => console.log("ignoring")); console.log("ready"); setInterval(() => {}, 1000)');
    proc.start();
    await waitFor('ready', () => proc.output.snapshot().includes('ready'));
    const pid = proc.pid!;
    const t0 = Date.now();
    await proc.stop(300);
    assert.ok(Date.now() - t0 >= 250, 'waited the grace period');
    assert.equal(pidAlive(pid), false);
    assert.deepEqual({ signal: exits[0]!.signal, expected: exits[0]!.expected, state: exits[0]!.state }, { signal: 'SIGKILL', expected: true, state: 'stopped' });
  });

  it('pause and resume with SIGSTOP/SIGCONT; stop works on a paused process; restarts are counted', async () => {
    const { proc, exits } = nodeProcess('console.log("ready"); setInterval(() => {}, 1000)');
    proc.start();
    await waitFor('ready', () => proc.output.snapshot().includes('ready'));
    proc.pause();
    assert.equal(proc.info().state, 'paused');
    proc.resume();
    assert.equal(proc.info().state, 'running');
    proc.pause();
    await proc.stop(2000);
    assert.equal(exits[0]!.signal, 'SIGTERM', 'a paused process still ends on SIGTERM (it is continued)');
    proc.start();
    assert.equal(proc.info().restarts, 1);
    await proc.kill();
    assert.equal(exits[1]!.signal, 'SIGKILL');
    assert.equal(proc.info().state, 'exited');
  });

  it('a command that cannot be spawned is an exit event too, never silent', async () => {
    const exits: ExitInfo[] = [];
    const proc = new ManagedProcess(
      { name: 'ghost', kind: 'redis', command: '/nonexistent/redis-server', args: [], env: process.env, port: null },
      { onStarted: () => undefined, onExit: (e) => exits.push(e) },
    );
    proc.start();
    await waitFor('exit', () => exits.length === 1);
    assert.match(exits[0]!.error ?? '', /ENOENT/);
    assert.equal(proc.info().state, 'crashed');
  });
});
