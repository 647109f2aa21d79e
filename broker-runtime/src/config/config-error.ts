/** A bad flag or value. The message is one line naming the flag, the value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    message: string,
    /** The flag at fault, e.g. `--port` (also when the value came from its env twin). */
    readonly flag?: string,
  ) {
    super(message);
  }
}
