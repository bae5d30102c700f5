import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvents, type ApplyOptions } from '../../src/catalog/events/apply.js';
import { EventOutcome, RejectReason, type RegistryEvent } from '../../src/catalog/events/model.js';
import { scanRegistry } from '../../src/catalog/scan.js';
import { openCatalogStore, type StoreLocation } from '../../src/catalog/store/open.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { UnreadableImageError } from '../../src/catalog/errors.js';
import { startPostgres, type PostgresService } from '../services/postgres.js';
import { digest, FakeRegistry } from './fake-source.js';
import { describeChanges, memoryStore } from './helpers.js';

const A = digest('a1');
const B = digest('b2');
const C = digest('c3');
const D = digest('d4');
/** describeChanges shortens digests to the 6 characters after "sha256:". */
const s = (d: string): string => d.slice(7, 13);

let postgres: PostgresService | undefined;
let dir = '';
let counter = 0;

const backends: [string, () => Promise<StoreLocation>][] = [
  [
    'embedded SQLite',
    () => Promise.resolve({ kind: 'sqlite', file: join(dir, `s${++counter}`, 'catalog.sqlite') }),
  ],
  [
    'PostgreSQL',
    async () => {
      if (!postgres) throw new Error('PostgreSQL did not start');
      return { kind: 'postgres', url: await postgres.createDatabase(`events_${++counter}`) };
    },
  ],
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falcon-org-events-'));
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The catalog of a store as sorted lines: `repo digest tags details`. */
async function catalogLines(store: CatalogStore, registry: string): Promise<string[]> {
  const { state } = await store.load(registry);
  const lines: string[] = [];
  for (const [repository, repo] of state) {
    for (const image of repo.images.values()) {
      const { digest: d, tags, ...details } = image;
      lines.push(`${repository} ${s(d)} ${tags.join(',')} ${JSON.stringify(details)}`);
    }
  }
  return lines.sort();
}

describe.each(backends)('applying registry events: %s', (_name, fresh) => {
  async function withStores<T>(count: number, work: (...stores: CatalogStore[]) => Promise<T>): Promise<T> {
    const stores = await Promise.all(
      Array.from({ length: count }, async () => openCatalogStore(await fresh())),
    );
    try {
      return await work(...stores);
    } finally {
      for (const store of stores) await store.close();
    }
  }
  const apply = (
    events: RegistryEvent[],
    registry: FakeRegistry,
    store: CatalogStore,
    options: ApplyOptions = {},
  ) => applyEvents(events, registry, store, { now: () => new Date(registry.clock), ...options });

  it('makes the change a scan would: images added with their details, tags added, moved and removed, inventory', () =>
    withStores(2, async (byEvents, byScan) => {
      const registry = new FakeRegistry('http://r.test');
      registry.details.set(A, { mediaType: 'application/vnd.oci.image.manifest.v1+json', sizeBytes: 42 });
      registry.details.set(C, {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        platforms: ['linux/amd64'],
      });
      registry.tag('app', 'v1', A).tag('app', 'latest', A).tag('tools', '1.0', B);
      await scanRegistry(registry, byEvents);
      await scanRegistry(registry, byScan);

      const events = [
        registry.push('app', 'v2', C), // new image, new tag
        registry.push('app', 'latest', C), // moved tag
        registry.removeTag('app', 'v1'), // A loses its last tag: gone from the catalog
        registry.push('web', 'v1', B), // a known digest in a new repository
        registry.deleteImage('tools', B), // image and its tag
      ];
      const { commit } = await apply(events, registry, byEvents);
      const rescan = await scanRegistry(registry, byScan);

      expect(describeChanges(commit.changes)).toEqual(describeChanges(rescan.changes));
      expect(describeChanges(commit.changes)).toEqual([
        `image-added app@${s(C)}`,
        `image-added web@${s(B)}`,
        `image-removed app@${s(A)}`,
        `image-removed tools@${s(B)}`,
        'tag-added app:v2',
        'tag-added web:v1',
        `tag-moved app:latest ${s(A)}->${s(C)}`,
        'tag-removed app:v1',
        'tag-removed tools:1.0',
      ]);
      expect(await catalogLines(byEvents, registry.registry)).toEqual(
        await catalogLines(byScan, registry.registry),
      );
      expect(commit.inventory.map((e) => e.digest)).toEqual([C]);
      expect((await byEvents.inventory()).map((e) => e.digest).sort()).toEqual(
        (await byScan.inventory()).map((e) => e.digest).sort(),
      );
      expect(commit.counts).toEqual({ [EventOutcome.Applied]: 5 });
      // Only the new digest's manifest was read; nothing was in doubt.
      expect(commit.run?.origin).toBe('events');
    }));

  it('reads the manifest of a digest new to the catalog only, once', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test').tag('app', 'v1', A);
      await scanRegistry(registry, store);
      registry.lookups = 0;
      const { registryRequests } = await apply(
        [
          registry.push('app', 'v2', A),
          registry.push('other', 'x', A),
          registry.push('app', 'v3', B),
          registry.push('other', 'y', B),
        ],
        registry,
        store,
      );
      expect(registryRequests).toBe(1);
      expect(registry.lookups).toBe(1);
    }));

  it('applies a duplicate delivery once: the second changes nothing', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test');
      const push = registry.push('app', 'v1', A);
      const first = await apply([push], registry, store);
      expect(first.commit.outcomes.get(push.id)).toBe(EventOutcome.Applied);
      registry.tick();
      const again = await apply([push, push], registry, store);
      expect(again.commit.outcomes.get(push.id)).toBe(EventOutcome.Duplicate);
      expect(again.commit.changes).toEqual([]);
      expect(again.commit.counts).toEqual({ [EventOutcome.Duplicate]: 2 });
      expect(await catalogLines(store, registry.registry)).toEqual([`app ${s(A)} v1 {}`]);
    }));

  it('never lets a stale event overwrite a newer state, across batches and within one', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test');
      const older = registry.push('app', 'latest', A);
      const newer = registry.push('app', 'latest', B);
      await apply([newer], registry, store);
      const late = await apply([older], registry, store);
      expect(late.commit.outcomes.get(older.id)).toBe(EventOutcome.Stale);
      expect(await catalogLines(store, registry.registry)).toEqual([`app ${s(B)} latest {}`]);

      // Within one batch, delivered newest first: applied oldest first, so the newest wins.
      const one = registry.push('web', 'v1', C);
      const two = registry.push('web', 'v1', D);
      await apply([two, one], registry, store);
      expect(await catalogLines(store, registry.registry)).toContain(`web ${s(D)} v1 {}`);
    }));

  it('keeps a deleted image deleted when its push arrives after the delete', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test').tag('app', 'v1', A);
      await scanRegistry(registry, store);
      registry.tick();
      const push = registry.push('app', 'v2', B);
      const remove = registry.deleteImage('app', B);
      const gone = await apply([remove], registry, store);
      expect(gone.commit.outcomes.get(remove.id)).toBe(EventOutcome.Unchanged);
      // The push is newer than anything known of tag v2, but image B was deleted after it: the
      // deletion took the tag with it, no lookup needed.
      registry.lookups = 0;
      const late = await apply([push], registry, store);
      expect(late.commit.outcomes.get(push.id)).toBe(EventOutcome.Unchanged);
      expect(registry.lookups).toBe(0);
      expect(await catalogLines(store, registry.registry)).toEqual([`app ${s(A)} v1 {}`]);
    }));

  it('settles an event stamped within the last scan with one lookup of its tag', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test').tag('app', 'v1', A);
      // The push happens at the very instant the scan reads the registry's clock: it may or may not
      // be in what the scan saw.
      registry.tag('app', 'v1', B);
      const during = {
        id: 'during',
        registry: registry.registry,
        repository: 'app',
        action: 'push' as const,
        tag: 'v1',
        digest: A,
        at: registry.now(),
      };
      await scanRegistry(registry, store); // saw v1 -> B
      registry.lookups = 0;
      const { commit } = await apply([during], registry, store);
      expect(commit.outcomes.get('during')).toBe(EventOutcome.Settled);
      expect(registry.lookups).toBe(3);
      expect(await catalogLines(store, registry.registry)).toEqual([`app ${s(B)} v1 {}`]);

      // An event stamped before the scan is stale without asking anyone.
      const before = { ...during, id: 'before', at: '2025-12-31T00:00:00.000000000Z' };
      registry.lookups = 0;
      expect((await apply([before], registry, store)).commit.outcomes.get('before')).toBe(EventOutcome.Stale);
      expect(registry.lookups).toBe(0);
    }));

  it('ignores events of excluded repositories', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test');
      const kept = registry.push('team/app', 'v1', A);
      const skipped = registry.push('scratch/tmp', 'v1', B);
      const { commit } = await apply([kept, skipped], registry, store, { exclude: ['scratch/**'] });
      expect(commit.outcomes.get(skipped.id)).toBe(EventOutcome.Excluded);
      expect(await catalogLines(store, registry.registry)).toEqual([`team/app ${s(A)} v1 {}`]);
    }));

  it('rejects an event whose image cannot be read, and applies the rest', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test');
      const broken = registry.push('app', 'bad', C);
      const good = registry.push('app', 'v1', A);
      const probe = Object.create(registry) as FakeRegistry;
      probe.describeImage = (repository: string, d: string) =>
        d === C
          ? Promise.reject(new UnreadableImageError(`${repository}@${d}: manifest is not JSON`))
          : registry.describeImage(repository, d);
      const { commit } = await applyEvents([broken, good], probe, store, {
        now: () => new Date(registry.clock),
      });
      expect(commit.outcomes.has(broken.id)).toBe(false);
      expect(commit.rejections).toEqual([
        {
          reason: RejectReason.UnreadableImage,
          detail: expect.stringContaining('manifest is not JSON') as string,
        },
      ]);
      expect(await catalogLines(store, registry.registry)).toEqual([`app ${s(A)} v1 {}`]);
      const [status] = await store.status();
      expect(status?.rejections).toEqual([
        expect.objectContaining({ reason: RejectReason.UnreadableImage, count: 1 }),
      ]);
    }));

  it('reconciles: a scan after a stretch of events shows only what the events missed, and resets the count', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test').tag('app', 'v1', A);
      const first = await scanRegistry(registry, store);
      const delivered = [registry.push('app', 'v2', B), registry.push('app', 'latest', B)];
      registry.push('app', 'lost', C); // its notification never arrives
      await apply(delivered, registry, store);

      let [status] = await store.status();
      expect(status).toMatchObject({
        registry: registry.registry,
        lastScan: { runId: first.run.id },
        eventsSinceScan: { [EventOutcome.Applied]: 2 },
      });
      const events = await store.eventChanges(registry.registry);
      expect(describeChanges(events.changes)).toEqual([
        `image-added app@${s(B)}`,
        'tag-added app:latest',
        'tag-added app:v2',
      ]);

      registry.tick();
      const reconcile = await scanRegistry(registry, store);
      expect(describeChanges(reconcile.changes)).toEqual([`image-added app@${s(C)}`, 'tag-added app:lost']);
      [status] = await store.status();
      expect(status).toMatchObject({ lastScan: { runId: reconcile.run.id }, eventsSinceScan: {} });
      expect((await store.eventChanges(registry.registry)).changes).toEqual([]);
    }));

  it('keeps what events applied while a scan ran: the scan neither fails nor overwrites them', () =>
    withStores(1, async (store) => {
      const registry = new FakeRegistry('http://r.test').tag('app', 'v1', A).tag('web', 'v1', A);
      await scanRegistry(registry, store);
      registry.tag('app', 'v1', B); // moved; its event is lost
      const pushed = registry.push('web', 'v2', B); // announced, applied only while the scan runs
      // The scan reads both repositories (seeing app:v1 -> B and web:v2); then, before it commits,
      // app:v1 moves again and both events are applied.
      const scanning = Object.create(registry) as FakeRegistry;
      let moved: RegistryEvent | undefined;
      scanning.listImages = async (repository, signal, known) => {
        const images = await registry.listImages(repository, signal, known);
        if (repository === 'web') {
          registry.tick();
          moved = registry.push('app', 'v1', C);
          await apply([pushed, moved], registry, store);
        }
        return images;
      };
      const scan = await scanRegistry(scanning, store, { concurrency: 1 });
      expect(moved).toBeDefined();
      // Both subjects were written by events after the scan read them: the scan reports neither.
      expect(describeChanges(scan.changes)).toEqual([]);
      expect(await catalogLines(store, registry.registry)).toEqual([
        `app ${s(C)} v1 {}`,
        `web ${s(A)} v1 {}`,
        `web ${s(B)} v2 {}`,
      ]);
      // And the next scan agrees with the registry.
      registry.tick();
      expect((await scanRegistry(registry, store)).changes).toEqual([]);
    }));
});

/** The catalog of a store as lines `repo digest6 tags`. */
async function shortLines(store: CatalogStore, registry: string): Promise<string[]> {
  const { state } = await store.load(registry);
  const out: string[] = [];
  for (const [repo, r] of state)
    for (const i of r.images.values()) out.push(`${repo} ${s(i.digest)} ${i.tags.join(',')}`);
  return out.sort();
}

describe('applying registry events in any order (property test)', () => {
  it('ends where the registry is, whatever the order, batching and style of delivery, with or without a scan in between', async () => {
    for (let trial = 1; trial <= 300; trial++) {
      const registry = new FakeRegistry('ecr://111122223333/eu-west-1');
      const events: RegistryEvent[] = [];
      let seed = trial;
      const random = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
      const oci = random(2) === 0;
      const store = await memoryStore();
      const scanAt = random(3) === 0 ? random(14) : -1;
      for (let i = 0; i < 14; i++) {
        if (i === scanAt) {
          registry.tick();
          await scanRegistry(registry, store);
        }
        const repository = `r${random(2)}`;
        const tag = `t${random(3)}`;
        const choice = random(10);
        if (choice < 6) events.push(registry.push(repository, tag, digest(`i${random(3)}`)));
        else if (choice < 8 && registry.repos.get(repository)?.has(tag) && !oci) {
          const target = registry.repos.get(repository)?.get(tag);
          const e = registry.removeTag(repository, tag);
          events.push({ ...e, digest: target, checkImage: true });
        } else {
          const target = [...(registry.repos.get(repository)?.values() ?? [])][0];
          if (target) {
            const tags = [...(registry.repos.get(repository) ?? [])]
              .filter(([, d]) => d === target)
              .map(([t]) => t);
            events.push(registry.deleteImage(repository, target));
            if (oci) for (const t of tags) events.push({ ...registry.removeTag(repository, t) });
          }
        }
      }
      const shuffled = events
        .map((e) => ({ e, k: random(1000) }))
        .sort((a, b) => a.k - b.k)
        .map((x) => x.e);
      registry.tick();
      for (let i = 0; i < shuffled.length;) {
        const n = 1 + random(8);
        await applyEvents(shuffled.slice(i, i + n), registry, store);
        i += n;
      }
      const truth = await memoryStore();
      await scanRegistry(registry, truth);
      const got = await shortLines(store, registry.registry);
      const want = await shortLines(truth, registry.registry);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        console.log(
          'trial',
          trial,
          'oci',
          oci,
          'scanAt',
          scanAt,
          'events',
          events.map(
            (e) => `${e.at.slice(17, 19)} ${e.action} ${e.tag ?? ''} ${e.digest?.slice(7, 11) ?? ''}`,
          ),
        );
        console.log('order', shuffled.map((e) => e.at.slice(17, 19)).join(' '));
        console.log('got', got, 'want', want);
        expect(got).toEqual(want);
      }
    }
  });
});
