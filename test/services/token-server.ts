import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { listenOnLoopback } from './free-port.js';

const run = promisify(execFile);

/** A key pair and self-signed certificate (PEM files) the registry trusts as `rootcertbundle`. */
export interface SigningMaterial {
  readonly keyPem: string;
  readonly certPem: string;
  readonly certPath: string;
}

/**
 * The environment without faketime's variables. The registry is a Go binary: it reads the machine's
 * real clock whatever `faketime` does to this process (and to C programs started from it), so what the
 * registry checks against its clock is made on that clock too.
 */
function realClockEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (name === 'LD_PRELOAD' && value?.includes('faketime') === true) continue;
    if (name.startsWith('FAKETIME')) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Creates an RSA key and self-signed certificate with the `openssl` CLI in `dir`, valid from the real
 * clock's now (see {@link realClockEnv}): the registry checks the certificate's dates.
 */
export async function createSigningMaterial(dir: string): Promise<SigningMaterial> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '2',
      '-subj',
      '/CN=falcon-org-test-token-issuer',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { env: realClockEnv() },
  );
  return { keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8'), certPath };
}

export interface TokenServerOptions {
  readonly signing: SigningMaterial;
  readonly issuer: string;
  readonly service: string;
  /** When set, token requests must carry these basic credentials; anonymous otherwise. */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** `expires_in` of issued tokens. @default 300 */
  readonly lifetimeSeconds?: number;
}

export interface TokenServer {
  /** The realm to put in the registry's `auth.token.realm`. */
  readonly realm: string;
  /** Token requests served so far, keyed by the space-joined scopes asked for ('' for none). */
  readonly requests: ReadonlyMap<string, number>;
  /** Total token requests served (granted or refused). */
  total(): number;
  /**
   * Stamps tokens on the clock of the registry that checks them: this process's clock plus `ms`. Tests
   * may run under `faketime` while the registry keeps the real clock; an issuer shares its registry's.
   */
  setClockOffset(ms: number): void;
  stop(): Promise<void>;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/**
 * A docker token-auth service (node:http): GET /token?service=…&scope=… answers
 * `{token, access_token, expires_in, issued_at}` with an RS256 JWT carrying the certificate in
 * `x5c`, granting every action asked for. Counts requests per scope for tests.
 */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const certDer = new X509Certificate(options.signing.certPem).raw.toString('base64');
  const lifetime = options.lifetimeSeconds ?? 300;
  const requests = new Map<string, number>();
  let total = 0;
  let offsetMs = 0;
  const expectedAuth = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : undefined;

  const server: Server = createServer((req, res) => {
    total++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    const key = [...new Set(scopes)].sort().join(' ');
    requests.set(key, (requests.get(key) ?? 0) + 1);
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    if (expectedAuth && req.headers.authorization !== expectedAuth) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const now = Math.floor((Date.now() + offsetMs) / 1000);
    const access = scopes.map((scope) => {
      const parts = scope.split(':');
      const actions = parts.pop() ?? '';
      const type = parts.shift() ?? '';
      return { type, name: parts.join(':'), actions: actions.split(',').filter(Boolean) };
    });
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = {
      iss: options.issuer,
      sub: options.credentials?.username ?? 'anonymous',
      aud: options.service,
      exp: now + lifetime,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(options.signing.keyPem);
    const token = `${signingInput}.${b64url(signature)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: lifetime,
        issued_at: new Date(now * 1000).toISOString(),
      }),
    );
  });
  const url = await listenOnLoopback(server);
  return {
    realm: `${url}/token`,
    requests,
    total: () => total,
    setClockOffset: (ms) => {
      offsetMs = ms;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
