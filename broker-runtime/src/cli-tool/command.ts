import type { OptionSpecs, Values } from './args.js';
import type { Connection } from './connect.js';
import type { Io } from './io.js';

/** One `yak` command: its own options (the connection options come on top) and what it does. */
export interface Command {
  name: string;
  /** One line for `yak --help`. */
  summary: string;
  /** `yak <name> --help`, connection options excluded (added by the caller). */
  help: string;
  options: OptionSpecs;
  run(args: { values: Values; positionals: string[] }, connection: Connection, io: Io): Promise<void>;
}
