import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatalogInputError, RegistryScanError } from '../../src/catalog/errors.js';
import { scanRegistry } from '../../src/catalog/scan.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { digest, FakeRegistry } from './fake-source.js';
import { describeChanges, memoryStore } from './helpers.js';

// Digest names are hex-encoded, so "a1" shows as 613100 in describeChanges output.
const A = digest('a1');
const B = digest('b2');
const C = digest('c3');
const short = (d: string): string => d.slice(7, 13);

describe('catalog engine', () => {
  let store: CatalogStore;
  let registry: FakeRegistry;

  beforeEach(async () => {
    store = await memoryStore();
    registry = new FakeRegistry();
  });
  afterEach(async () => {
    await store.close();
  });

  it('catalogs every repository, image and tag on a first scan and inventories each digest', async () => {
    registry.tag('app', 'v1', A).tag('app', 'latest', A).tag('app', 'v2', B).tag('tools', 'v1', C);
    registry.details.set(A, {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64'],
    });

    const result = await scanRegistry(registry, store);

    expect(result.run.summary).toMatchObject({
      repositories: 2,
      images: 3,
      tags: 4,
      added: 3,
      removed: 0,
      moved: 0,
    });
    expect(result.inventoried.map((e) => [e.repository, short(e.digest), e.tags])).toEqual([
      ['app', short(A), ['latest', 'v1']],
      ['app', short(B), ['v2']],
      ['tools', short(C), ['v1']],
    ]);
    const stored = await store.load(registry.registry);
    expect(stored.state.get('app')?.images.get(A)).toMatchObject({
      tags: ['latest', 'v1'],
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64'],
    });
  });

  it('reports tags added, removed and moved, and images added and removed', async () => {
    registry.tag('app', 'v1', A).tag('app', 'latest', A).tag('app', 'old', C);
    await scanRegistry(registry, store);
    registry.tag('app', 'latest', B).tag('app', 'v2', B).untag('app', 'old');

    const result = await scanRegistry(registry, store);

    expect(describeChanges(result.changes)).toEqual([
      `image-added app@${short(B)}`,
      `image-removed app@${short(C)}`,
      'tag-added app:v2',
      `tag-moved app:latest ${short(A)}->${short(B)}`,
      'tag-removed app:old',
    ]);
    expect(result.run.summary).toMatchObject({
      added: 1,
      removed: 1,
      moved: 1,
      tagsAdded: 1,
      tagsRemoved: 1,
    });
  });

  it('does not inventory a digest again when a tag moves onto it or it shows up in another repository', async () => {
    registry.tag('app', 'v1', A).tag('app', 'v2', B);
    await scanRegistry(registry, store);
    registry.tag('app', 'latest', A).tag('app', 'v2', A).tag('mirror', 'v1', B);

    const result = await scanRegistry(registry, store);

    expect(result.inventoried).toEqual([]);
    expect(describeChanges(result.changes)).toContain(`tag-moved app:v2 ${short(B)}->${short(A)}`);
    expect(describeChanges(result.changes)).toContain(`image-added mirror@${short(B)}`);
    expect(await store.inventory()).toHaveLength(2);
  });

  it('inventories a digest in two repositories once, under the first repository by name', async () => {
    registry.tag('zeta', 'v1', A).tag('alpha', 'v9', A);
    const result = await scanRegistry(registry, store);
    expect(result.inventoried.map((e) => [e.repository, e.tags])).toEqual([['alpha', ['v9']]]);
  });

  it('does not inventory a removed image again when it comes back', async () => {
    registry.tag('app', 'v1', A);
    await scanRegistry(registry, store);
    registry.untag('app', 'v1');
    await scanRegistry(registry, store);
    registry.tag('app', 'v1', A);
    const result = await scanRegistry(registry, store);
    expect(describeChanges(result.changes)).toContain(`image-added app@${short(A)}`);
    expect(result.inventoried).toEqual([]);
  });

  it('dedupes per registry by default and across registries with the global scope', async () => {
    const other = new FakeRegistry('http://other.test');
    registry.tag('app', 'v1', A);
    other.tag('copy', 'v1', A).tag('copy', 'v2', B);
    await scanRegistry(registry, store);

    const perRegistry = await scanRegistry(other, store);
    expect(perRegistry.inventoried.map((e) => short(e.digest))).toEqual([short(A), short(B)]);

    const third = new FakeRegistry('http://third.test');
    third.tag('x', 'v1', A).tag('x', 'v2', B).tag('x', 'v3', C);
    const global = await scanRegistry(third, store, { dedupe: 'global' });
    expect(global.inventoried.map((e) => short(e.digest))).toEqual([short(C)]);
  });

  it('collects only repositories matching the include globs, and exclude wins', async () => {
    registry.tag('team-a/api', 'v1', A).tag('team-a/tmp-x', 'v1', B).tag('team-b/api', 'v1', C);
    const result = await scanRegistry(registry, store, { include: ['team-a/**'], exclude: ['**/tmp-*'] });
    expect([...registry.knownSeen.keys()]).toEqual(['team-a/api']);
    expect(result.run.summary).toMatchObject({ repositories: 1, excluded: 2 });
  });

  it('keeps the stored state of an excluded repository instead of reporting it removed', async () => {
    registry.tag('keep', 'v1', A).tag('other', 'v1', B);
    await scanRegistry(registry, store);
    const result = await scanRegistry(registry, store, { exclude: ['keep'] });
    expect(result.changes).toEqual([]);
    expect((await store.load(registry.registry)).state.get('keep')?.images.has(A)).toBe(true);
  });

  it('removes a repository the registry no longer lists', async () => {
    registry.tag('gone', 'v1', A).tag('stays', 'v1', B);
    await scanRegistry(registry, store);
    registry.deleteRepository('gone');
    const result = await scanRegistry(registry, store);
    expect(describeChanges(result.changes)).toEqual([
      `image-removed gone@${short(A)}`,
      'tag-removed gone:v1',
    ]);
    expect((await store.load(registry.registry)).state.has('gone')).toBe(false);
  });

  it('reports a failing repository by name and keeps its previous state as unchanged', async () => {
    registry.tag('flaky', 'v1', A).tag('fine', 'v1', B);
    await scanRegistry(registry, store);
    registry.failing.add('flaky');
    registry.tag('fine', 'v2', C);

    const result = await scanRegistry(registry, store);

    expect(result.run.failures).toEqual([{ repository: 'flaky', reason: 'HTTP 500 listing tags of flaky' }]);
    expect(describeChanges(result.changes)).toEqual([`image-added fine@${short(C)}`, 'tag-added fine:v2']);
    expect((await store.load(registry.registry)).state.get('flaky')?.images.get(A)?.tags).toEqual(['v1']);

    registry.failing.clear();
    registry.untag('flaky', 'v1');
    const recovered = await scanRegistry(registry, store);
    expect(describeChanges(recovered.changes)).toEqual([
      `image-removed flaky@${short(A)}`,
      'tag-removed flaky:v1',
    ]);
  });

  it('commits nothing when the repositories cannot be listed', async () => {
    registry.tag('app', 'v1', A);
    await scanRegistry(registry, store);
    registry.failListing = true;
    await expect(scanRegistry(registry, store)).rejects.toBeInstanceOf(RegistryScanError);
    expect((await store.load(registry.registry)).generation).toBe(1);
  });

  it('hands each repository what the catalog knows so a source can skip unchanged manifests', async () => {
    registry.tag('app', 'v1', A).tag('other', 'v1', B);
    await scanRegistry(registry, store);
    await scanRegistry(registry, store);
    const known = registry.knownSeen.get('app');
    expect(known?.tagDigests.get('v1')).toBe(A);
    expect(known?.describe(B)?.tags).toEqual(['v1']);
    expect(known?.describe(C)).toBeUndefined();
  });

  it('writes nothing but the run record on a scan where nothing changed', async () => {
    registry.tag('app', 'v1', A);
    await scanRegistry(registry, store);
    const result = await scanRegistry(registry, store);
    expect(result.changes).toEqual([]);
    expect((await store.lastRun())?.run.id).toBe(result.run.id);
  });

  it('stops and commits nothing when aborted', async () => {
    registry.tag('app', 'v1', A);
    const controller = new AbortController();
    controller.abort();
    await expect(scanRegistry(registry, store, { signal: controller.signal })).rejects.toThrow();
    expect((await store.load(registry.registry)).generation).toBe(0);
  });

  it('collects at most `concurrency` repositories at a time', async () => {
    for (let i = 0; i < 20; i += 1) registry.tag(`r${i}`, 'v1', A);
    let active = 0;
    let peak = 0;
    const slow = Object.create(registry) as FakeRegistry;
    slow.listImages = async (repository, signal, known) => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active -= 1;
      return registry.listImages(repository, signal, known);
    };
    await scanRegistry(slow, store, { concurrency: 3 });
    expect(peak).toBe(3);
  });

  it('rejects a concurrency outside 1..256 and an empty glob as user errors', async () => {
    await expect(scanRegistry(registry, store, { concurrency: 0 })).rejects.toBeInstanceOf(CatalogInputError);
    await expect(scanRegistry(registry, store, { include: [' '] })).rejects.toBeInstanceOf(CatalogInputError);
  });
});

describe('details of known digests', () => {
  it('keeps the stored details when a source leaves them out for a digest it was told is known', async () => {
    const store = await memoryStore();
    const registry = new FakeRegistry();
    registry.tag('app', 'v1', A).tag('copy', 'v1', A);
    registry.details.set(A, {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64'],
      sizeBytes: 7,
    });
    await scanRegistry(registry, store, { include: ['app'] });
    registry.details.set(A, { mediaType: 'application/vnd.oci.image.index.v1+json' }); // a warm source: HEAD only

    const result = await scanRegistry(registry, store);

    expect(result.changes.map((c) => c.kind)).toEqual(['image-added', 'tag-added']);
    const loaded = await store.load(registry.registry);
    for (const repo of ['app', 'copy']) {
      expect(loaded.state.get(repo)?.images.get(A)).toMatchObject({
        platforms: ['linux/amd64'],
        sizeBytes: 7,
      });
    }
    await store.close();
  });
});
