import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';

import { freePort } from './free-port.js';
import { createSigningMaterial, startTokenServer, type TokenServer } from './token-server.js';

export type RegistryAuth = 'none' | 'basic' | 'token';

export interface StartRegistryOptions {
  /** 'basic': htpasswd; 'token': bearer tokens from a local token server (which wants the credentials). @default 'none' */
  readonly auth?: RegistryAuth;
  /** `expires_in` of tokens ('token' auth). @default 300 */
  readonly tokenLifetimeSeconds?: number;
  /**
   * Where the registry posts its notifications (`notifications.endpoints`), with the bearer token it
   * sends; pulls and blobs are left out, as the README advises. Retries back off 200 ms.
   */
  readonly notify?: { readonly url: string; readonly token: string };
}

export interface LocalRegistry {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Set for 'basic' and 'token' auth. */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** The token server ('token' auth), with its per-scope request counts. */
  readonly tokenServer?: TokenServer;
  /** The registry's storage root (filesystem driver). */
  readonly storageDir: string;
  /** Stops the registry (and token server) and deletes its storage. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a free port and a temp
 * filesystem storage (deletes enabled), waits until /v2/ answers, and returns its URL.
 *
 * @example
 * const registry = await startRegistry({ auth: 'token' });
 * const client = new OciRegistryClient({ url: registry.url, credentials: registry.credentials });
 * afterAll(() => registry.stop());
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<LocalRegistry> {
  const auth = options.auth ?? 'none';
  const dir = await mkdtemp(join(tmpdir(), 'falcon-org-registry-'));
  const storageDir = join(dir, 'storage');
  const credentials =
    auth === 'none' ? undefined : { username: 'tester', password: randomBytes(12).toString('hex') };
  let tokenServer: TokenServer | undefined;
  try {
    let authConfig: Record<string, unknown> | undefined;
    if (auth === 'basic' && credentials) {
      // cost 4: the registry checks bcrypt on every request; tests want that cheap
      const hash = bcrypt.hashSync(credentials.password, 4);
      await writeFile(join(dir, 'htpasswd'), `${credentials.username}:${hash}\n`);
      authConfig = { htpasswd: { realm: 'falcon-org-test', path: join(dir, 'htpasswd') } };
    } else if (auth === 'token' && credentials) {
      const signing = await createSigningMaterial(dir);
      const service = 'falcon-org-test-registry';
      const issuer = 'falcon-org-test-issuer';
      tokenServer = await startTokenServer({
        signing,
        issuer,
        service,
        credentials,
        ...(options.tokenLifetimeSeconds ? { lifetimeSeconds: options.tokenLifetimeSeconds } : {}),
      });
      authConfig = { token: { realm: tokenServer.realm, service, issuer, rootcertbundle: signing.certPath } };
    }

    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const config = {
        version: 0.1,
        log: { level: 'error', accesslog: { disabled: true } },
        storage: {
          filesystem: { rootdirectory: storageDir },
          delete: { enabled: true },
          maintenance: { uploadpurging: { enabled: false } },
        },
        http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
        ...(authConfig ? { auth: authConfig } : {}),
        ...(options.notify
          ? {
              notifications: {
                endpoints: [
                  {
                    name: 'falcon-org',
                    url: options.notify.url,
                    headers: { Authorization: [`Bearer ${options.notify.token}`] },
                    timeout: '2s',
                    threshold: 3,
                    backoff: '200ms',
                    ignoredmediatypes: ['application/octet-stream'],
                    ignore: { actions: ['pull'] },
                  },
                ],
              },
            }
          : {}),
      };
      const configPath = join(dir, 'config.yml');
      await writeFile(configPath, stringify(config));
      const url = `http://127.0.0.1:${port}`;
      const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      live.add(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const ready = await waitReady(url, exited);
      if (ready !== false) {
        const ts = tokenServer;
        ts?.setClockOffset(ready.clockOffsetMs);
        return {
          url,
          storageDir,
          ...(credentials ? { credentials } : {}),
          ...(ts ? { tokenServer: ts } : {}),
          stop: async () => {
            child.kill('SIGTERM');
            await Promise.race([exited, sleep(5000)]);
            if (child.exitCode === null) child.kill('SIGKILL');
            live.delete(child);
            await ts?.stop();
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      child.kill('SIGKILL');
      live.delete(child);
      if (attempt >= 3 || !/address already in use/i.test(stderr)) {
        throw new Error(`docker-registry did not start on ${url}: ${stderr.trim() || 'no output'}`);
      }
    }
  } catch (error) {
    await tokenServer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Offsets below this are the Date header's one-second resolution, not a shifted clock. */
const CLOCK_SKEW_MS = 5_000;

/**
 * Polls GET /v2/ until it answers 200 or 401; false if the process exits or time runs out. Also tells
 * how far the registry's clock (its `Date` header) is from this process's: it keeps the real clock
 * when the tests run under `faketime`.
 */
async function waitReady(url: string, exited: Promise<void>): Promise<false | { clockOffsetMs: number }> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!gone && Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) {
        const offset = Date.parse(res.headers.get('date') ?? '') - Date.now();
        return { clockOffsetMs: Number.isFinite(offset) && Math.abs(offset) > CLOCK_SKEW_MS ? offset : 0 };
      }
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}
