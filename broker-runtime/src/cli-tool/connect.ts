import { readFileSync } from 'node:fs';
import { YakClient, type YakClientOptions } from '../client/index.js';
import { intOption, stringValue, type Values } from './args.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_BROKERS = 'http://127.0.0.1:5001';

/** How to reach the cluster, from the connection options and their environment twins (options win). */
export interface Connection {
  brokers: string[];
  /** Whether a token is sent: error messages differ (missing vs. not accepted). */
  hasToken: boolean;
  options: YakClientOptions;
}

export function connectionFrom(values: Values, env: NodeJS.ProcessEnv): Connection {
  const brokers = parseBrokers(stringValue(values, 'brokers') ?? nonEmpty(env['YAK_BROKERS']) ?? DEFAULT_BROKERS, values['brokers'] !== undefined ? '--brokers' : 'YAK_BROKERS');
  const token = stringValue(values, 'token') ?? nonEmpty(env['YAK_TOKEN']);
  if (token !== undefined && (token.length === 0 || /[\r\n]/.test(token))) throw new UsageError('--token must be one non-empty line: <principal>:<secret>');
  const ca = pemFile(values, 'ca', env['YAK_CA']);
  const cert = pemFile(values, 'tls-cert', env['YAK_TLS_CERT']);
  const key = pemFile(values, 'tls-key', env['YAK_TLS_KEY']);
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both for mutual TLS, or neither');
  const retries = intOption(values, 'retries', 0, 100);
  const timeoutMs = intOption(values, 'timeout-ms', 1, 600_000);
  return {
    brokers,
    hasToken: token !== undefined,
    options: {
      brokers,
      ...(token !== undefined ? { token } : {}),
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
      ...(retries !== undefined ? { retry: { retries } } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    },
  };
}

export function connect(connection: Connection): YakClient {
  return new YakClient(connection.options);
}

/**
 * A client whose reads go to the leader first: a follower's high-water mark may trail the
 * leader's by a moment, and a record just acknowledged should be there when `yak consume` looks.
 * Any other seed still answers if the leader does not.
 */
export async function connectToLeader(connection: Connection): Promise<YakClient> {
  const client = connect(connection);
  const { leader } = await client.leader();
  if (!leader) return client;
  const seeds = [leader.url, ...connection.brokers.filter((b) => b !== leader.url)];
  return new YakClient({ ...connection.options, brokers: seeds });
}

/** `URL,URL`; a bare host:port gets http://. */
export function parseBrokers(text: string, source: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw new UsageError(`${source} names no broker; expected URL,URL (e.g. ${DEFAULT_BROKERS})`);
  return list.map((entry) => {
    // `-b 5001` would become http://5001, which URL parsers read as the IPv4 address 0.0.19.137.
    if (/^\d+$/.test(entry)) throw new UsageError(`${source}: '${entry}' is a port alone; give host:port, e.g. 127.0.0.1:${entry}`);
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `http://${entry}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`${source}: '${entry}' is not a broker URL (expected http://host:port)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`${source}: '${entry}' is not http:// or https://`);
    return url.replace(/\/+$/, '');
  });
}

function pemFile(values: Values, name: string, fromEnv: string | undefined): Buffer | undefined {
  const path = stringValue(values, name) ?? nonEmpty(fromEnv);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${name} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}
