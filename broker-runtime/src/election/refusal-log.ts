import type { Logger } from '../logger.js';

export type RefusalLevel = 'info' | 'warn' | 'error';

/**
 * Why this broker does not take a free lease, told once per change of reason. An operator watching
 * a broker that does not lead must see why, and what would end it: most reasons used to go to the
 * debug level, so a broker could follow nobody for minutes with nothing in its log. The follower
 * polls the lease every few hundred ms, so telling each refusal would flood the log instead.
 *
 * A run of refusals ends when this broker leads, or when another broker has held the lease for a
 * whole lease period (a leader renewing it, not a lease taken and given back at once, as happens
 * every poll while no Redis replica acknowledges one): the next refusal is told again, even with
 * the same reason.
 */
export class RefusalLog {
  private told: string | null = null;
  private holder: { key: string; since: number } | null = null;

  constructor(
    private readonly log: Logger,
    private readonly leaseMs: number,
  ) {}

  /** `line` says what was refused and why (`not taking the lease: …`); logged unless it was the last one told. */
  refuse(line: string, level: RefusalLevel = 'info'): void {
    if (line === this.told) return;
    this.told = line;
    this.log(level, line, 'leader.refused', { reason: line });
  }

  /** This broker took the lease: the run of refusals is over. */
  won(): void {
    this.told = null;
    this.holder = null;
  }

  /** Another broker holds the lease (`key` names the holder and its epoch), seen at `now` (monotonic ms). */
  leaseHeld(key: string, now: number): void {
    if (this.holder?.key !== key) this.holder = { key, since: now };
    else if (now - this.holder.since >= this.leaseMs) this.told = null;
  }
}
