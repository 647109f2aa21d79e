import type { FaultKind } from './config.js';
import type { SimEvent } from './scheduler.js';
import type { Proc, World } from './world.js';

/**
 * Injects the run's faults at random moments, each undone after a random while: kills, SIGTERMs,
 * pauses past the lease, network cuts between brokers and to Redis, Redis restarts (empty) and
 * outages, power loss, a Redis connection that loses answers. heal() undoes everything still in effect.
 */
export class Nemesis {
  private readonly undo = new Map<SimEvent, () => void>();
  private next: SimEvent | null = null;
  private stopped = false;
  readonly counts = new Map<FaultKind, number>();

  constructor(private readonly w: World) {}

  start(): void {
    this.schedule();
  }

  heal(): void {
    this.stopped = true;
    if (this.next) this.next.cancelled = true;
    for (const [ev, fn] of this.undo) {
      ev.cancelled = true;
      fn();
    }
    this.undo.clear();
    const w = this.w;
    w.net.healAll();
    w.net.calm();
    if (!w.redis.up) w.redis.up = true;
    for (const p of w.procs.values()) {
      if (p.paused) w.resume(p);
      if (!p.up) w.restart(p);
    }
    w.trace.add('nemesis: everything healed');
  }

  private schedule(): void {
    const gap = -Math.log(1 - this.w.rng.next()) * this.w.cfg.meanFaultGapMs;
    this.next = this.w.sched.after(gap, () => {
      if (this.stopped) return;
      this.inject();
      this.schedule();
    });
  }

  private later(ms: number, fn: () => void): void {
    const ev = this.w.sched.after(ms, () => {
      this.undo.delete(ev);
      fn();
    });
    this.undo.set(ev, fn);
  }

  private inject(): void {
    const w = this.w;
    const r = w.rng;
    const lease = w.cfg.leaseMs;
    const weights = Object.entries(w.cfg.faults).filter(([, n]) => (n ?? 0) > 0) as [FaultKind, number][];
    const total = weights.reduce((s, [, n]) => s + n, 0);
    let pick = r.next() * total;
    let kind: FaultKind = weights[0]![0];
    for (const [k, n] of weights) if ((pick -= n) < 0) {
      kind = k;
      break;
    }
    const procs = [...w.procs.values()];
    const up = procs.filter((p) => p.up);
    const target: Proc | undefined = up.length ? r.pick(up) : undefined;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    switch (kind) {
      case 'crash':
      case 'power-loss':
      case 'sigterm': {
        if (!target) return;
        if (kind === 'crash') w.crash(target);
        else if (kind === 'power-loss') w.powerLoss(target);
        else w.sigterm(target);
        this.later(r.float(0.1, 3) * lease, () => w.restart(target));
        return;
      }
      case 'pause': {
        if (!target || target.paused) return;
        w.pause(target);
        this.later(r.float(0.1, 2.5) * lease, () => w.resume(target));
        return;
      }
      case 'isolate': {
        if (!target) return;
        const others = ['redis', 'client', ...procs.filter((p) => p !== target).map((p) => p.id)];
        w.trace.add(`nemesis: ${target.id} isolated`);
        for (const o of others) w.net.cut(target.id, o);
        this.later(r.float(0.3, 3) * lease, () => {
          for (const o of others) w.net.heal(target.id, o);
          w.trace.add(`nemesis: ${target.id} reconnected`);
        });
        return;
      }
      case 'cut-redis': {
        if (!target) return;
        w.trace.add(`nemesis: ${target.id} cut from redis`);
        w.net.cut(target.id, 'redis');
        this.later(r.float(0.3, 3) * lease, () => {
          w.net.heal(target.id, 'redis');
          w.trace.add(`nemesis: ${target.id} reaches redis again`);
        });
        return;
      }
      case 'redis-flaky': {
        // Mostly the leader: its in-sync set changes and renewals are what an unknown outcome hurts.
        const leader = up.find((p) => p.broker?.writable());
        const flaky = leader && r.chance(0.7) ? leader : target;
        if (!flaky) return;
        const loss = r.pick([0.2, 0.5]);
        w.trace.add(`nemesis: ${flaky.id} loses ${loss * 100} % of Redis's answers`);
        w.net.flakyRedis(flaky.id, loss);
        this.later(r.float(0.3, 3) * lease, () => {
          w.net.flakyRedis(flaky.id, null);
          w.trace.add(`nemesis: ${flaky.id} gets every Redis answer again`);
        });
        return;
      }
      case 'redis-restart-cut': {
        // Redis restarts empty while one broker (mostly the leader, which holds every committed
        // record) is cut from it; the cut heals about when the others' recovery wait ends.
        if (!w.redis.up) return;
        const leader = up.find((p) => p.broker?.writable());
        const cut = leader && r.chance(0.7) ? leader : target;
        if (!cut) return;
        w.net.cut(cut.id, 'redis');
        w.redis.up = false;
        w.trace.add(`nemesis: ${cut.id} cut from redis; redis killed`);
        const down = r.float(0.05, 0.5) * lease;
        this.later(down, () => {
          w.isrBeforeRedisLoss = w.redis.peek().isr?.members ?? w.isrBeforeRedisLoss;
          w.redis.restartEmpty();
          w.redis.up = true;
          w.trace.add('nemesis: redis back, empty');
        });
        // The others recover about a lease after Redis is back: heal mostly within the last
        // command timeout before that, when a command sent during the cut still hangs.
        this.later(down + r.float(0.4, 1.1) * lease, () => {
          w.net.heal(cut.id, 'redis');
          w.trace.add(`nemesis: ${cut.id} reaches redis again`);
        });
        return;
      }
      case 'lossy-follower': {
        // The leader crashes (what it sent one follower alone becomes a divergent tail if another
        // follower leads next) while that follower's answers are lost, the requests it gets still
        // applied: first all of them, past the replica lag, so the next leader drops it from the
        // in-sync set and commits past the divergence; then half, so a mismatch gets through and
        // the truncation it brings is resent when its answer is lost.
        const leader = up.find((p) => p.broker?.writable());
        const followers = up.filter((p) => p !== leader);
        if (!leader || followers.length === 0) return;
        const lossy = r.pick(followers);
        w.crash(leader);
        this.later(r.float(0.5, 3) * lease, () => w.restart(leader));
        w.trace.add(`nemesis: ${lossy.id} loses every answer to the other brokers`);
        w.net.lossyAnswers(lossy.id, 1);
        const silent = lease + w.cfg.replicaLagMs * r.float(1.1, 2);
        this.later(silent, () => {
          w.net.lossyAnswers(lossy.id, 0.5);
          w.trace.add(`nemesis: ${lossy.id} loses half of its answers`);
        });
        this.later(silent + r.float(1, 3) * lease, () => {
          w.net.lossyAnswers(lossy.id, null);
          w.trace.add(`nemesis: ${lossy.id}'s answers arrive again`);
        });
        return;
      }
      case 'cut-link': {
        if (procs.length < 2) return;
        const a = r.pick(procs);
        const b = r.pick(procs.filter((p) => p !== a));
        w.trace.add(`nemesis: link ${a.id}-${b.id} cut`);
        w.net.cut(a.id, b.id);
        this.later(r.float(0.3, 3) * lease, () => {
          w.net.heal(a.id, b.id);
          w.trace.add(`nemesis: link ${a.id}-${b.id} healed`);
        });
        return;
      }
      case 'redis-restart':
      case 'redis-down': {
        if (!w.redis.up) return;
        w.redis.up = false;
        w.trace.add(`nemesis: redis ${kind === 'redis-restart' ? 'killed' : 'unreachable'}`);
        this.later(r.float(0.05, 1.5) * lease, () => {
          if (kind === 'redis-restart') {
            w.isrBeforeRedisLoss = w.redis.peek().isr?.members ?? w.isrBeforeRedisLoss;
            w.redis.restartEmpty();
          }
          w.redis.up = true;
          w.trace.add(`nemesis: redis back${kind === 'redis-restart' ? ', empty' : ''}`);
        });
        return;
      }
    }
  }
}
