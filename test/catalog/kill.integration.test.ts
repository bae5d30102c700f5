import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalogStore } from '../../src/catalog/store/open.js';
import type { StoredRegistry } from '../../src/catalog/store/store.js';
import { OciRegistryClient } from '../../src/registry/client.js';
import { buildImage, pushFixture, pushImage } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';
import { startSlowProxy, type SlowProxy } from './slow-proxy.js';

const REPOSITORIES = 30;

interface Child {
  readonly exit: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
  kill(): void;
}

/** Starts `falcon-org catalog scan` from source in its own process. */
function scanProcess(registry: string, store: string, extra: readonly string[] = []): Child {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/catalog/cli-entry.ts', 'catalog', 'scan', registry, '--store', store, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FALCON_ORG_STORE: '' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return {
    exit: new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
    ),
    kill: () => child.kill('SIGKILL'),
  };
}

function snapshot(stored: StoredRegistry): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  for (const [repo, state] of stored.state) {
    out[repo] = Object.fromEntries([...state.images].map(([digest, image]) => [digest, [...image.tags]]));
  }
  return out;
}

describe('a scan killed mid-run', () => {
  let registry: LocalRegistry;
  let proxy: SlowProxy;
  let dir: string;

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startSlowProxy(registry.url);
    dir = await mkdtemp(join(tmpdir(), 'falcon-org-kill-'));
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // Three CLI processes started from source: generous time when the whole suite runs in parallel.
  it(
    'leaves the previous state intact, and the next run completes the work',
    { timeout: 240_000 },
    async () => {
      const client = new OciRegistryClient({ url: registry.url });
      const repos = await pushFixture(client, { repositories: REPOSITORIES, tagsPerRepository: 2 });
      const storeFile = join(dir, 'catalog.sqlite');

      // Run 1 completes.
      const first = await scanProcess(proxy.url, storeFile, ['--json']).exit;
      expect(first.code, first.stderr).toBe(0);
      const firstRunId = (JSON.parse(first.stdout) as { run: { id: string } }).run.id;
      const read = async (): Promise<{ state: StoredRegistry; last?: string; inventory: number }> => {
        const store = await openCatalogStore({ kind: 'sqlite', file: storeFile });
        try {
          return {
            state: await store.load(proxy.url),
            last: (await store.lastRun(proxy.url))?.run.id,
            inventory: (await store.inventory()).length,
          };
        } finally {
          await store.close();
        }
      };
      const before = await read();
      expect(before.inventory).toBe(REPOSITORIES * 2);

      // The registry changes: a new image under a new tag in every repository.
      for (const repo of repos) await pushImage(client, repo, buildImage(), ['new']);

      // Run 2 is killed part-way: one repository at a time, each tag listing slowed down.
      proxy.delayMs = 150;
      const reached = proxy.waitForTagListings(8);
      const killed = scanProcess(proxy.url, storeFile, ['--concurrency', '1']);
      await reached;
      killed.kill();
      const outcome = await killed.exit;
      expect(outcome.signal).toBe('SIGKILL');
      expect(proxy.tagListings()).toBeLessThan(REPOSITORIES * 2); // it really was mid-scan

      const after = await read();
      expect(after.last).toBe(firstRunId);
      expect(after.state.generation).toBe(before.state.generation);
      expect(snapshot(after.state)).toEqual(snapshot(before.state));
      expect(after.inventory).toBe(before.inventory);

      // Run 3 completes the work.
      proxy.delayMs = 0;
      const third = await scanProcess(proxy.url, storeFile, ['--json']).exit;
      expect(third.code, third.stderr).toBe(0);
      const result = JSON.parse(third.stdout) as {
        run: { summary: { added: number; tagsAdded: number; inventoried: number } };
      };
      expect(result.run.summary).toMatchObject({
        added: REPOSITORIES,
        tagsAdded: REPOSITORIES,
        inventoried: REPOSITORIES,
      });
      const done = await read();
      for (const repo of repos) expect(done.state.state.get(repo)?.images.size).toBe(3);
    },
  );
});
