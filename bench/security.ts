import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSecret } from '../broker-runtime/src/auth/secret-hash.js';
import { makeTestCerts, type TestCerts } from '../testkit/certs.js';
import type { TestClusterOptions } from '../testkit/broker/cluster.js';
import type { ConnectionSecurity } from './http-conn.js';

/** Which of the optional security features the brokers of one cluster run with. */
export interface SecuritySetting {
  /** --auth-file with one principal (produce/consume/admin on `*`, no quota); every request carries its token. */
  auth: boolean;
  /** --tls-cert/--tls-key/--tls-ca, https:// advertised URLs (replication over TLS too), bench connections over TLS. */
  tls: boolean;
}

export const PRINCIPAL = 'bench';

export function describeSecurity(s: SecuritySetting): string {
  return s.auth && s.tls ? 'auth+tls' : s.auth ? 'auth' : s.tls ? 'tls' : 'plain';
}

/**
 * The files a secured cluster needs, made once per run in a temp folder: an auth file holding
 * one principal, and certificates made with openssl (testkit/certs.ts, as docs/security.md
 * shows). Several clusters of one run (the security matrix) share them.
 */
export class SecurityMaterial {
  private constructor(
    private readonly dir: string,
    private readonly authFile: string | null,
    private readonly token: string | null,
    private readonly certs: TestCerts | null,
    private readonly ca: Buffer | null,
  ) {}

  static async make(need: { auth: boolean; tls: boolean }): Promise<SecurityMaterial> {
    const dir = await mkdtemp(join(tmpdir(), 'yak-bench-security-'));
    let certs: TestCerts | null = null;
    try {
      let authFile: string | null = null;
      let token: string | null = null;
      if (need.auth) {
        const secret = randomBytes(24).toString('base64url');
        authFile = join(dir, 'principals.json');
        const principals = { [PRINCIPAL]: { secret_hash: await hashSecret(secret), produce: ['*'], consume: ['*'], admin: true } };
        await writeFile(authFile, JSON.stringify({ principals }, null, 2) + '\n', { mode: 0o600 });
        token = `${PRINCIPAL}:${secret}`;
      }
      if (need.tls) certs = makeTestCerts();
      return new SecurityMaterial(dir, authFile, token, certs, certs ? readFileSync(certs.caCert) : null);
    } catch (err) {
      certs?.remove();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** What TestCluster.start needs for brokers with this setting. */
  clusterOptions(s: SecuritySetting): Pick<TestClusterOptions, 'token' | 'tls'> & { extra: string[] } {
    const o: Pick<TestClusterOptions, 'token' | 'tls'> & { extra: string[] } = { extra: [] };
    if (s.auth) {
      if (!this.authFile || !this.token) throw new Error('no auth file was made for this run');
      o.extra.push('--auth-file', this.authFile);
      o.token = this.token;
    }
    if (s.tls) {
      if (!this.certs || !this.ca) throw new Error('no certificates were made for this run');
      o.tls = { cert: this.certs.serverCert, key: this.certs.serverKey, caFile: this.certs.caCert, ca: this.ca };
    }
    return o;
  }

  /** What every bench connection to such brokers carries. */
  connection(s: SecuritySetting): ConnectionSecurity {
    return { ...(s.auth && this.token ? { token: this.token } : {}), ...(s.tls && this.ca ? { ca: this.ca } : {}) };
  }

  async remove(): Promise<void> {
    this.certs?.remove();
    await rm(this.dir, { recursive: true, force: true });
  }
}
