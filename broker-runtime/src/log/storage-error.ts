/**
 * Storage faults, named once in the log layer so nothing above it has to read errno codes.
 * A fault says which condition it is (`kind`) and, for writes, whether the log may now hold bytes
 * it did not have before (`torn`): that is the difference between a refusal (nothing changed) and
 * an unknown outcome.
 */

export type StorageFaultKind = 'full' | 'quota' | 'io' | 'read-only' | 'too-many-files';

/** errno codes that mean the disk (not our data, not a bug) stopped taking writes. */
const KINDS: Readonly<Record<string, StorageFaultKind>> = {
  ENOSPC: 'full',
  EDQUOT: 'quota',
  EIO: 'io',
  EROFS: 'read-only',
  EMFILE: 'too-many-files',
  ENFILE: 'too-many-files',
};

export class StorageError extends Error {
  constructor(
    readonly kind: StorageFaultKind,
    /** The errno code it came from (ENOSPC, EIO, ...). */
    readonly errno: string,
    message: string,
    /**
     * True when bytes of the failed write may still be in the file (the write started and could not
     * be undone): the records' fate is unknown. False when the log is exactly as before the write.
     */
    readonly torn = false,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

export function isStorageError(err: unknown): err is StorageError {
  return err instanceof StorageError;
}

/** The fault kind of an errno code, or undefined when it is not a storage fault. */
export function storageFaultKind(code: unknown): StorageFaultKind | undefined {
  return typeof code === 'string' ? KINDS[code] : undefined;
}

/**
 * `err` as a StorageError when it is one (an errno error from the file system, or already a
 * StorageError, then `torn` can only grow), else undefined. `what` says what was being done.
 */
export function classifyStorageError(err: unknown, what: string, torn = false): StorageError | undefined {
  if (err instanceof StorageError) return torn && !err.torn ? new StorageError(err.kind, err.errno, err.message, true) : err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const kind = storageFaultKind(code);
  if (!kind) return undefined;
  const detail = err instanceof Error ? err.message : String(err);
  return new StorageError(kind, code as string, `${what}: ${detail}`, torn);
}

/** `err` classified (see classifyStorageError), or unchanged when it is not a storage fault. */
export function asStorageError(err: unknown, what: string, torn = false): unknown {
  return classifyStorageError(err, what, torn) ?? err;
}
