import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSecret } from '../../../broker-runtime/src/auth/index.js';

/**
 * The desktop cluster's own credential: brokers run with an auth file that knows exactly one
 * principal, and only the supervisor holds its secret. Without it any program on the machine that
 * can reach 127.0.0.1 could produce to or read the cluster (DESIGN.md "Browsers" / issue 9).
 *
 * Both files live in the app's data folder with mode 0600: `cluster-credential.json` (the secret,
 * kept across restarts so brokers started earlier keep accepting it) and `broker-auth.json` (its
 * scrypt hash with every permission, as the brokers' --auth-file).
 */
export const DESKTOP_PRINCIPAL = 'desktop-app';
const CREDENTIAL_FILE = 'cluster-credential.json';
const AUTH_FILE = 'broker-auth.json';

export interface ClusterCredential {
  /** `Authorization: Bearer <token>` for every call the supervisor makes to its brokers. */
  token: string;
  /** The brokers' --auth-file. */
  authFile: string;
}

export async function ensureClusterCredential(dataDir: string): Promise<ClusterCredential> {
  await mkdir(dataDir, { recursive: true });
  const credentialPath = join(dataDir, CREDENTIAL_FILE);
  const authFile = join(dataDir, AUTH_FILE);
  let secret = await readSecret(credentialPath);
  if (secret === null) {
    secret = randomBytes(32).toString('base64url');
    await writePrivate(credentialPath, JSON.stringify({ principal: DESKTOP_PRINCIPAL, secret }, null, 2));
  }
  const auth = {
    principals: {
      [DESKTOP_PRINCIPAL]: { secret_hash: await hashSecret(secret), produce: ['*'], consume: ['*'], admin: true },
    },
  };
  await writePrivate(authFile, JSON.stringify(auth, null, 2));
  return { token: `${DESKTOP_PRINCIPAL}:${secret}`, authFile };
}

async function readSecret(path: string): Promise<string | null> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as { principal?: unknown; secret?: unknown };
    if (doc.principal === DESKTOP_PRINCIPAL && typeof doc.secret === 'string' && /^[A-Za-z0-9_-]{32,}$/.test(doc.secret)) {
      await chmod(path, 0o600); // tighten a file someone loosened
      return doc.secret;
    }
  } catch {
    /* none yet, or unreadable: make a new one */
  }
  return null;
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
