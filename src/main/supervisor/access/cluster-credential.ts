import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSecret } from '../../../../broker-runtime/src/auth/index.js';

/**
 * The desktop cluster's own credential: brokers run with an auth file that knows exactly one
 * principal, and only the supervisor holds its secret. Without it any program on the machine that
 * can reach 127.0.0.1 could produce to or read the cluster (DESIGN.md "Browsers" / issue 9).
 *
 * Both files live in the app's data folder with mode 0600: `cluster-credential.json` (the secret,
 * kept across restarts so brokers started earlier keep accepting it) and `broker-auth.json` (its
 * scrypt hash with every permission, as the brokers' --auth-file).
 *
 * A second principal, `kafka-client`, is for the developer's own Kafka clients (kcat, KafkaJS…)
 * that the Dashboard shows how to connect: produce and consume on every topic, no admin. It has a
 * secret of its own, so showing it in the UI never hands out the supervisor's.
 */
export const DESKTOP_PRINCIPAL = 'desktop-app';
export const KAFKA_CLIENT_PRINCIPAL = 'kafka-client';
const CREDENTIAL_FILE = 'cluster-credential.json';
const AUTH_FILE = 'broker-auth.json';

export interface ClusterCredential {
  /** `Authorization: Bearer <token>` for every call the supervisor makes to its brokers. */
  token: string;
  /** The brokers' --auth-file. */
  authFile: string;
  /** SASL/PLAIN username and password for the developer's Kafka clients. */
  kafkaClient: { username: string; password: string };
}

export async function ensureClusterCredential(dataDir: string): Promise<ClusterCredential> {
  await mkdir(dataDir, { recursive: true });
  const credentialPath = join(dataDir, CREDENTIAL_FILE);
  const authFile = join(dataDir, AUTH_FILE);
  const stored = await readSecrets(credentialPath);
  const secret = stored.secret ?? newSecret();
  const kafkaSecret = stored.kafkaClientSecret ?? newSecret();
  if (stored.secret !== secret || stored.kafkaClientSecret !== kafkaSecret) {
    await writePrivate(credentialPath, JSON.stringify({ principal: DESKTOP_PRINCIPAL, secret, kafka_client_secret: kafkaSecret }, null, 2));
  }
  const auth = {
    principals: {
      [DESKTOP_PRINCIPAL]: { secret_hash: await hashSecret(secret), produce: ['*'], consume: ['*'], admin: true },
      [KAFKA_CLIENT_PRINCIPAL]: { secret_hash: await hashSecret(kafkaSecret), produce: ['*'], consume: ['*'], admin: false },
    },
  };
  await writePrivate(authFile, JSON.stringify(auth, null, 2));
  return { token: `${DESKTOP_PRINCIPAL}:${secret}`, authFile, kafkaClient: { username: KAFKA_CLIENT_PRINCIPAL, password: kafkaSecret } };
}

const newSecret = () => randomBytes(32).toString('base64url');
const SECRET = /^[A-Za-z0-9_-]{32,}$/;

async function readSecrets(path: string): Promise<{ secret: string | null; kafkaClientSecret: string | null }> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as { principal?: unknown; secret?: unknown; kafka_client_secret?: unknown };
    if (doc.principal === DESKTOP_PRINCIPAL && typeof doc.secret === 'string' && SECRET.test(doc.secret)) {
      await chmod(path, 0o600); // tighten a file someone loosened
      // A file from before the Kafka client principal: it gets one, the supervisor's secret is kept.
      const kafka = typeof doc.kafka_client_secret === 'string' && SECRET.test(doc.kafka_client_secret) ? doc.kafka_client_secret : null;
      return { secret: doc.secret, kafkaClientSecret: kafka };
    }
  } catch {
    /* none yet, or unreadable: make a new one */
  }
  return { secret: null, kafkaClientSecret: null };
}

/** Write via a temp file created 0600, so the secret is never readable by others, not even briefly. */
async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
