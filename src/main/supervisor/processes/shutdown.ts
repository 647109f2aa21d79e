/**
 * Quit without orphans, for any host: on SIGINT/SIGTERM run the graceful shutdown (children get
 * SIGTERM, then SIGKILL after the grace period), with a hard deadline; a second signal, or the
 * process exiting for any other reason, SIGKILLs whatever is left at once.
 */
export interface ShutdownTarget {
  shutdown(): Promise<void>;
  killAllNow(): void;
}

export interface ShutdownHooks {
  /** Removes the handlers (tests; a host that takes over quitting itself). */
  dispose(): void;
  /** The graceful shutdown, started at most once. */
  quit(): Promise<void>;
}

export function installShutdownHooks(
  target: ShutdownTarget,
  exit: (code: number) => void = (code) => process.exit(code),
  deadlineMs = 8000,
  log: (line: string) => void = (line) => console.error(line),
): ShutdownHooks {
  let quitting: Promise<void> | null = null;
  const quit = () => {
    quitting ??= (async () => {
      const deadline = setTimeout(() => {
        log('[yak] shutdown took too long: killing what is left');
        target.killAllNow();
        exit(1);
      }, deadlineMs);
      deadline.unref();
      try {
        await target.shutdown();
      } finally {
        clearTimeout(deadline);
      }
    })();
    return quitting;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (quitting) {
      log(`[yak] ${signal} again: killing every child now`);
      target.killAllNow();
      exit(130);
      return;
    }
    log(`[yak] ${signal}: stopping the cluster (Ctrl+C again to kill it at once)`);
    quit().then(
      () => exit(0),
      () => exit(1),
    );
  };
  const onExit = () => target.killAllNow();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  return {
    quit,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', onExit);
    },
  };
}
