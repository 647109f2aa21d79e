/**
 * Topic patterns of a principal's permissions, glob-style: `*` stands for any run of characters
 * (none included), everything else for itself. `orders.*` matches `orders.eu` and `orders.` but
 * not `orders`; `*` matches every topic. Topic names have no other special characters to worry about.
 */

const PATTERN = /^[A-Za-z0-9._*-]{1,249}$/;

/** Why `pattern` is not a topic pattern, or undefined when it is one. */
export function patternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return 'must be a string';
  if (!PATTERN.test(pattern)) return `'${pattern.slice(0, 80)}' is not a topic pattern: 1-249 characters of A-Z a-z 0-9 . _ - and *`;
  return undefined;
}

/** A list of patterns compiled to one regular expression. */
export class TopicPatterns {
  private readonly re: RegExp | null;

  constructor(readonly patterns: readonly string[]) {
    for (const p of patterns) {
      const problem = patternProblem(p);
      if (problem) throw new Error(problem);
    }
    this.re = patterns.length === 0 ? null : new RegExp(`^(?:${patterns.map(toRegExp).join('|')})$`);
  }

  /** True when some pattern matches `topic`. */
  matches(topic: string): boolean {
    return this.re !== null && this.re.test(topic);
  }

  /** True when at least one topic could match. */
  get any(): boolean {
    return this.re !== null;
  }
}

function toRegExp(pattern: string): string {
  // Of the allowed characters only `.` (escaped) and `*` (any run) mean something to RegExp.
  return pattern.replace(/\./g, '\\.').replace(/\*/g, '.*');
}
