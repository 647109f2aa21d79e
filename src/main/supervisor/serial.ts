/**
 * Runs lifecycle operations one after another (start, stop, wipe, add, remove, process actions),
 * so a "stop" clicked during a "start" waits for it instead of racing it and leaving orphans.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
