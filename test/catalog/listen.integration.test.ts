import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parseNotification } from '../../src/catalog/events/distribution.js';
import { EventOutcome, RejectReason } from '../../src/catalog/events/model.js';
import { scanRegistry } from '../../src/catalog/scan.js';
import { openCatalogStore, type StoreLocation } from '../../src/catalog/store/open.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { createRegistrySource } from '../../src/cli/catalog-source.js';
import { OciRegistryClient } from '../../src/registry/client.js';
import { buildImage, buildIndex, deleteImage, pushImage, tagImage } from '../services/oci-images.js';
import { startPostgres, type PostgresService } from '../services/postgres.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';
import { describeChanges } from './helpers.js';
import {
  eventually,
  listen,
  post,
  startEndpoint,
  TOKEN,
  type Endpoint,
  type RunningListener,
} from './listen-harness.js';

/** The catalog of one registry's repositories under `prefix/` in a store, as sorted lines. */
async function catalogOf(store: CatalogStore, registry: string, prefix: string): Promise<string[]> {
  const { state } = await store.load(registry);
  const lines: string[] = [];
  for (const [repository, repo] of state) {
    if (!repository.startsWith(`${prefix}/`)) continue;
    for (const image of repo.images.values()) lines.push(`${repository} ${JSON.stringify(image)}`);
  }
  return lines.sort();
}

/** What a scan of the registry's repositories under `prefix/` (into a fresh store) catalogs now. */
async function scanned(registry: LocalRegistry, prefix: string): Promise<string[]> {
  const store = await openCatalogStore({ kind: 'sqlite', file: join(dir, `truth-${++counter}.sqlite`) });
  try {
    const source = await createRegistrySource(registry.url, { env: {} });
    await scanRegistry(source, store, { include: [`${prefix}/**`] });
    source.close?.();
    return await catalogOf(store, registry.url, prefix);
  } finally {
    await store.close();
  }
}

/** Events the listener takes from a notification body (manifest pushes by tag and deletes). */
const eventsIn = (bodies: readonly string[], registry: string): number =>
  bodies.reduce((n, body) => n + parseNotification(body, registry).events.length, 0);

let postgres: PostgresService | undefined;
let dir = '';
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falcon-org-listen-'));
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

const backends: [string, () => Promise<StoreLocation>][] = [
  ['embedded SQLite', () => Promise.resolve({ kind: 'sqlite', file: join(dir, `l${++counter}.sqlite`) })],
  [
    'PostgreSQL',
    async () => {
      if (!postgres) throw new Error('PostgreSQL did not start');
      return { kind: 'postgres', url: await postgres.createDatabase(`listen_${++counter}`) };
    },
  ],
];

describe.each(backends)(
  'catalog listen with a real docker-registry posting its notifications: %s',
  (_name, fresh) => {
    let endpoint: Endpoint;
    let registry: LocalRegistry;
    let client: OciRegistryClient;
    let store: CatalogStore;
    let running: RunningListener | undefined;

    beforeAll(async () => {
      endpoint = await startEndpoint();
      registry = await startRegistry({ notify: { url: endpoint.url, token: TOKEN } });
      client = new OciRegistryClient({ url: registry.url });
    });
    afterAll(async () => {
      await registry?.stop();
      await endpoint?.close();
    });
    afterEach(async () => {
      endpoint.drop(undefined);
      await running?.stop();
      running = undefined;
      await store?.close();
    });

    async function start(): Promise<RunningListener> {
      store = await openCatalogStore(await fresh());
      running = await listen(endpoint, registry.url, store);
      return running;
    }

    it('keeps the catalog as a scan would through pushes, a moved tag, a retag and deletes', async () => {
      const { logs } = await start();
      onTestFailed(() => console.error(JSON.stringify(logs, null, 1)));
      const one = buildImage({ layers: 2 });
      const two = buildImage({ format: 'docker' });
      const multi = buildIndex({ platforms: ['linux/amd64', 'linux/arm64/v8'] });
      await pushImage(client, 'life/app', one, ['v1', 'latest']);
      await pushImage(client, 'life/app', multi, ['multi']);
      await pushImage(client, 'life/tools', two, ['1.0']);
      // Applied before it is deleted, so it is inventoried (pushed and deleted within one batch, an
      // image never reaches the catalog, as a scan would never see it).
      await eventually(async () =>
        expect((await store.load(registry.url)).state.get('life/tools')?.images.has(two.digest)).toBe(true),
      );
      await tagImage(client, 'life/app', multi.digest, 'latest'); // moved
      await tagImage(client, 'life/app', one.digest, 'stable'); // retag
      await deleteImage(client, 'life/tools', two.digest); // the image and its tag

      const expected = await scanned(registry, 'life');
      await eventually(async () => expect(await catalogOf(store, registry.url, 'life')).toEqual(expected));
      const app = (await store.load(registry.url)).state.get('life/app');
      expect(app?.images.get(multi.digest)).toMatchObject({ platforms: ['linux/amd64', 'linux/arm64/v8'] });
      // The inventory keeps every image the catalog ever held, the deleted one too.
      expect((await store.inventory()).map((e) => e.digest).sort()).toEqual(
        [one.digest, two.digest, multi.digest].sort(),
      );
      expect(endpoint.statuses.every((s) => s === 202)).toBe(true);
    });

    it('applies a duplicate delivery once and survives the registry delivering everything out of order', async () => {
      const first = endpoint.bodies.length;
      const listener = await start();
      const a = buildImage();
      const b = buildImage();
      await pushImage(client, 'order/app', a, ['v1', 'latest']);
      await pushImage(client, 'order/app', b, ['v2']);
      await tagImage(client, 'order/app', b.digest, 'latest');
      await deleteImage(client, 'order/app', a.digest); // v1 goes with it
      const expected = await scanned(registry, 'order');
      await eventually(async () => expect(await catalogOf(store, registry.url, 'order')).toEqual(expected));
      const bodies = endpoint.bodies.slice(first);
      await eventually(() => expect(listener.listener.stats().handled).toBe(eventsIn(bodies, registry.url)));

      // Every notification again: all duplicates, nothing changes.
      for (const body of bodies) expect(await post(endpoint.url, body)).toBe(202);
      await eventually(() =>
        expect(listener.listener.stats().handled).toBe(2 * eventsIn(bodies, registry.url)),
      );
      expect(await catalogOf(store, registry.url, 'order')).toEqual(expected);
      const [status] = await store.status();
      expect(status?.eventsSinceScan[EventOutcome.Duplicate]).toBeGreaterThan(0);

      // A second store fed the same notifications newest first ends the same.
      await running?.stop();
      await store.close();
      store = await openCatalogStore(await fresh());
      running = await listen(endpoint, registry.url, store);
      for (const body of [...bodies].reverse()) expect(await post(endpoint.url, body)).toBe(202);
      await eventually(async () => expect(await catalogOf(store, registry.url, 'order')).toEqual(expected));
    });

    it('refuses what it cannot parse with 400 and a wrong token with 401, logs it, and carries on', async () => {
      const { logs } = await start();
      expect(await post(endpoint.url, 'not json at all')).toBe(400);
      expect(await post(endpoint.url, '{"events": 1}')).toBe(400);
      expect(await post(endpoint.url, '{"events": []}', 'wrong-token-0123456789')).toBe(401);
      expect(await post(endpoint.url, '{"events": []}', null)).toBe(401);
      // An envelope with one broken event and one good one: the good one counts.
      const image = buildImage();
      await pushImage(client, 'broken/app', image, ['v1']);
      const expected = await scanned(registry, 'broken');
      await eventually(async () => expect(await catalogOf(store, registry.url, 'broken')).toEqual(expected));
      const mixed = JSON.stringify({
        events: [
          {
            id: 'x1',
            timestamp: 'yesterday',
            action: 'push',
            target: { repository: 'broken/app', tag: 'v2', digest: image.digest },
          },
        ],
      });
      expect(await post(endpoint.url, mixed)).toBe(202);
      await eventually(async () => {
        const [status] = await store.status();
        expect(status?.rejections).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              reason: RejectReason.Malformed,
              count: 3,
              detail: expect.stringContaining('not RFC 3339') as string,
            }),
          ]),
        );
      });
      expect(logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(
        expect.arrayContaining([
          'refused a notification: the body is not JSON',
          'refused a notification: the body has no "events" list',
          'refused a notification without the right bearer token',
        ]),
      );
    });

    it('misses lost notifications; the next scan catches exactly those', async () => {
      await start();
      const kept = buildImage();
      const lost = buildImage();
      await pushImage(client, 'lossy/app', kept, ['v1']);
      await eventually(async () =>
        expect((await store.load(registry.url)).state.get('lossy/app')?.images.size).toBe(1),
      );
      endpoint.drop((body) => body.includes('"lost-tag"'));
      await pushImage(client, 'lossy/app', lost, ['lost-tag']);
      endpoint.drop(undefined);
      const after = buildImage();
      await pushImage(client, 'lossy/app', after, ['v2']);
      await eventually(async () =>
        expect((await store.load(registry.url)).state.get('lossy/app')?.images.size).toBe(2),
      );

      const source = await createRegistrySource(registry.url, { env: {} });
      const reconcile = await scanRegistry(source, store, { include: ['lossy/**'] });
      source.close?.();
      const s = (d: string): string => d.slice(7, 13);
      expect(describeChanges(reconcile.changes)).toEqual([
        `image-added lossy/app@${s(lost.digest)}`,
        'tag-added lossy/app:lost-tag',
      ]);
    });
  },
);

describe('catalog listen when the PostgreSQL store goes down', () => {
  it('answers 503 while the store is down; the registry retries and nothing is lost', async () => {
    const pg = await startPostgres('down');
    const endpoint = await startEndpoint();
    const registry = await startRegistry({ notify: { url: endpoint.url, token: TOKEN } });
    const store = await openCatalogStore({ kind: 'postgres', url: pg.url });
    const running = await listen(endpoint, registry.url, store);
    try {
      const client = new OciRegistryClient({ url: registry.url });
      await pushImage(client, 'up/app', buildImage(), ['v1']);
      await eventually(async () => expect((await store.load(registry.url)).state.size).toBe(1));

      // Events are kept in the store before the listener answers, so while it is down the registry's
      // notifications are answered 503 (and sent again) until it is back; none is accepted and lost.
      await pg.pause();
      const first = buildImage();
      await pushImage(client, 'down/app', first, ['v1']);
      await eventually(() => expect(running.listener.stats().storeUp).toBe(false));
      const second = buildImage();
      await pushImage(client, 'down/app', second, ['v2']);
      await eventually(() => expect(endpoint.statuses).toContain(503));
      await pg.resume();

      await eventually(async () => {
        const state = (await store.load(registry.url)).state;
        expect(state.get('down/app')?.images.get(first.digest)?.tags).toEqual(['v1']);
        expect(state.get('down/app')?.images.get(second.digest)?.tags).toEqual(['v2']);
      }, 30_000);
      expect(running.listener.stats().storeUp).toBe(true);
      expect(
        running.logs.some(
          (l) => l.message.startsWith('could not keep accepted events') && l.storeDown === true,
        ),
      ).toBe(true);
    } finally {
      await running.stop();
      await store.close();
      await registry.stop();
      await endpoint.close();
      await pg.stop();
    }
  });
});
