import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalogStore } from '../../src/catalog/store/open.js';
import { LISTEN_TOKEN_ENV } from '../../src/cli/catalog-listen.js';
import { OciRegistryClient } from '../../src/registry/client.js';
import { freePort } from '../services/free-port.js';
import { buildImage, deleteImage, pushImage, tagImage } from '../services/oci-images.js';
import { startPostgres } from '../services/postgres.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';
import { runCatalog } from './cli-harness.js';
import { eventually, TOKEN } from './listen-harness.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falcon-org-listen-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('catalog listen: settings', () => {
  it('refuses to start without a bearer token in the environment, naming the variable', async () => {
    const saved = process.env[LISTEN_TOKEN_ENV];
    delete process.env[LISTEN_TOKEN_ENV];
    try {
      const result = await runCatalog([
        'listen',
        '--registry',
        'http://127.0.0.1:1',
        '--store',
        join(dir, 'a.sqlite'),
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`set ${LISTEN_TOKEN_ENV} to the bearer token the registry sends`);
      process.env[LISTEN_TOKEN_ENV] = 'short';
      expect((await runCatalog(['listen', '--registry', 'http://127.0.0.1:1'])).code).toBe(2);
    } finally {
      if (saved === undefined) delete process.env[LISTEN_TOKEN_ENV];
      else process.env[LISTEN_TOKEN_ENV] = saved;
    }
  });

  it('takes no token on the command line and only http(s) registries', async () => {
    const option = await runCatalog(['listen', '--registry', 'http://127.0.0.1:1', '--token', TOKEN]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--token'");
    process.env[LISTEN_TOKEN_ENV] = TOKEN;
    try {
      const ecr = await runCatalog(['listen', '--registry', 'ecr://123456789012/eu-west-1']);
      expect(ecr.code).toBe(2);
      expect(ecr.stderr).toContain('ECR events come through `catalog follow`');
    } finally {
      delete process.env[LISTEN_TOKEN_ENV];
    }
  });
});

describe('catalog listen as its own process, posted to by a real docker-registry', () => {
  let registry: LocalRegistry;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    registry = await startRegistry({ notify: { url: `http://127.0.0.1:${port}/events`, token: TOKEN } });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('keeps the store current until SIGTERM, then exits 0; status and diff --events show what it applied', async () => {
    const store = join(dir, 'listen.sqlite');
    const { child, out, exit, listening } = startListen(registry.url, port, store);
    try {
      await listening();
      expect(out.stdout).toContain(`Listening on http://127.0.0.1:${port}/events for ${registry.url}`);
      const client = new OciRegistryClient({ url: registry.url });
      const a = buildImage();
      const b = buildImage();
      await pushImage(client, 'cli/app', a, ['v1']);
      await pushImage(client, 'cli/app', b, ['v2']);
      await tagImage(client, 'cli/app', b.digest, 'v1');
      await deleteImage(client, 'cli/app', a.digest);
      await eventually(async () => {
        const status = await runCatalog(['status', '--registry', registry.url, '--store', store, '--json']);
        const [row] = (
          JSON.parse(status.stdout) as { registries: { eventsSinceScan: Record<string, number> }[] }
        ).registries;
        expect(row?.eventsSinceScan['applied']).toBe(3); // v1, v2, v1 moved (the delete found nothing left)
      });
      const diff = await runCatalog(['diff', '--events', '--registry', registry.url, '--store', store]);
      expect(diff.stdout).toContain(`+ tag   cli/app:v2 -> ${b.digest}`);
      expect(diff.stdout).toContain(`- image cli/app@${a.digest}`);
      const text = await runCatalog(['status', '--store', store]);
      expect(text.stdout).toContain('last scan            never (run `falcon-org catalog scan`)');
      expect(text.stdout).toMatch(/events since\s+3 applied/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exit).toBe(0);
    expect(out.stderr).toMatch(/info stopped: \d+ events handled, 0 rejected/);
  });
});

/** `catalog listen` as its own process, with its output collected. */
function startListen(registry: string, port: number, store: string) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/catalog/cli-entry.ts',
      'catalog',
      'listen',
      '--registry',
      registry,
      '--port',
      String(port),
      '--store',
      store,
    ],
    { env: { ...process.env, [LISTEN_TOKEN_ENV]: TOKEN, FALCON_ORG_STORE: '' } },
  );
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const listening = () =>
    eventually(() => expect(out.stdout).toContain(`Listening on http://127.0.0.1:${port}/events`), 30_000);
  return { child, out, exit, listening };
}

describe('catalog listen killed (SIGKILL) after it accepted a notification and before it applied it', () => {
  it('loses nothing: the next listen on the store applies it without the registry sending it again', async () => {
    const postgres = await startPostgres('killed');
    const port = await freePort();
    const registry = await startRegistry({
      notify: { url: `http://127.0.0.1:${port}/events`, token: TOKEN },
    });
    const url = postgres.url;
    const store = await openCatalogStore({ kind: 'postgres', url });
    const locker = new pg.Client({ connectionString: url });
    try {
      const client = new OciRegistryClient({ url: registry.url });
      const first = startListen(registry.url, port, url);
      await first.listening();
      const a = buildImage();
      await pushImage(client, 'kill/app', a, ['v1']);
      await eventually(async () =>
        expect((await store.load(registry.url)).state.get('kill/app')?.images.has(a.digest)).toBe(true),
      );

      // Another session holds the registry's event-state row: the listener can keep what it is sent
      // (and answer 202) but cannot apply it.
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('UPDATE catalog_event_state SET seq = seq WHERE registry = $1', [registry.url]);
      const b = buildImage();
      await pushImage(client, 'kill/app', b, ['v2']);
      await eventually(async () => {
        const held = await store.heldEvents(registry.url);
        expect(held.map((e) => [e.repository, e.tag, e.digest])).toContainEqual(['kill/app', 'v2', b.digest]);
      });
      first.child.kill('SIGKILL');
      expect(await first.exit).toBe('SIGKILL');
      await locker.query('ROLLBACK');
      expect((await store.load(registry.url)).state.get('kill/app')?.images.has(b.digest)).toBe(false);

      // The next listener, on the same store: the registry sends nothing more, the image arrives.
      const next = startListen(registry.url, port, url);
      try {
        await next.listening();
        await eventually(async () =>
          expect((await store.load(registry.url)).state.get('kill/app')?.images.get(b.digest)?.tags).toEqual([
            'v2',
          ]),
        );
        await eventually(async () => expect(await store.heldEvents(registry.url)).toEqual([]));
      } finally {
        next.child.kill('SIGTERM');
      }
      expect(await next.exit).toBe(0);
      expect(next.out.stderr).toContain('1 events accepted before and not applied yet: applying them first');
    } finally {
      await locker.end().catch(() => undefined);
      await store.close();
      await registry.stop();
      await postgres.stop();
    }
  });
});
