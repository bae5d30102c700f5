import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { scanRegistry, type ScanOptions, type ScanResult } from '../../src/catalog/scan.js';
import { openCatalogStore } from '../../src/catalog/store/open.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { createRegistrySource } from '../../src/cli/catalog-source.js';
import { OciRegistryClient } from '../../src/registry/client.js';
import { MediaType } from '../../src/registry/media-types.js';
import { startFaultProxy } from '../services/fault-proxy.js';
import {
  buildImage,
  buildIndex,
  deleteImage,
  deleteTag,
  pushImage,
  tagImage,
} from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';
import { runCatalog } from './cli-harness.js';
import { describeChanges } from './helpers.js';

/** describeChanges shortens digests to their first 6 hex characters. */
const s = (d: string): string => d.slice(7, 13);

describe('catalog against a real docker-registry', () => {
  let registry: LocalRegistry;
  let client: OciRegistryClient;
  let dir: string;
  let store: CatalogStore;

  beforeAll(async () => {
    registry = await startRegistry();
    client = new OciRegistryClient({ url: registry.url });
  });
  afterAll(async () => {
    await registry?.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'falcon-org-catalog-it-'));
    store = await openCatalogStore({ kind: 'sqlite', file: join(dir, 'catalog.sqlite') });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Scans the test registry through the CLI's own source factory, limited to one test's repositories. */
  async function scan(prefix: string, options: ScanOptions = {}, pageSize?: number): Promise<ScanResult> {
    const source = await createRegistrySource(registry.url, { env: {}, ...(pageSize ? { pageSize } : {}) });
    return scanRegistry(source, store, { include: [`${prefix}/**`], ...options });
  }

  it('follows the life of a repository: first scan, new tag, moved tag, retag, deleted tag and image', async () => {
    const one = buildImage({ layers: 2 });
    const two = buildImage({ format: 'docker' });
    const multi = buildIndex({ platforms: ['linux/amd64', 'linux/arm64/v8'] });
    await pushImage(client, 'life/app', one, ['v1', 'latest']);
    await pushImage(client, 'life/app', multi, ['multi']);
    await pushImage(client, 'life/tools', two, ['1.0']);

    // First scan: everything is new and inventoried once, with details from the manifests.
    const first = await scan('life');
    expect(first.run.summary).toMatchObject({
      repositories: 2,
      images: 3,
      tags: 4,
      added: 3,
      inventoried: 3,
    });
    const app = (await store.load(registry.url)).state.get('life/app');
    expect(app?.images.get(one.digest)).toMatchObject({
      tags: ['latest', 'v1'],
      mediaType: MediaType.OciManifest,
      sizeBytes: one.sizeBytes,
    });
    expect(app?.images.get(multi.digest)).toMatchObject({
      mediaType: MediaType.OciIndex,
      platforms: ['linux/amd64', 'linux/arm64/v8'],
    });

    // Push a new tag of a new image.
    const three = buildImage();
    await pushImage(client, 'life/app', three, ['v2']);
    const pushed = await scan('life');
    expect(describeChanges(pushed.changes)).toEqual([
      `image-added life/app@${s(three.digest)}`,
      'tag-added life/app:v2',
    ]);
    expect(pushed.inventoried.map((e) => e.digest)).toEqual([three.digest]);

    // Move a tag to another (already catalogued) image: a move, nothing new to inventory.
    await tagImage(client, 'life/app', three.digest, 'latest');
    const moved = await scan('life');
    expect(describeChanges(moved.changes)).toEqual([
      `tag-moved life/app:latest ${s(one.digest)}->${s(three.digest)}`,
    ]);
    expect(moved.inventoried).toEqual([]);

    // Retag an existing image: a new tag, no new inventory.
    await tagImage(client, 'life/app', one.digest, 'stable');
    const retagged = await scan('life');
    expect(describeChanges(retagged.changes)).toEqual(['tag-added life/app:stable']);
    expect(retagged.inventoried).toEqual([]);

    // Delete a tag, then an image (all its tags go with it).
    await deleteTag(client, 'life/app', 'stable');
    const untagged = await scan('life');
    expect(describeChanges(untagged.changes)).toEqual(['tag-removed life/app:stable']);
    await deleteImage(client, 'life/app', multi.digest);
    const deleted = await scan('life');
    expect(describeChanges(deleted.changes)).toEqual([
      `image-removed life/app@${s(multi.digest)}`,
      'tag-removed life/app:multi',
    ]);
    expect(deleted.run.summary).toMatchObject({ removed: 1, inventoried: 0 });

    // A scan with nothing changed reports nothing.
    expect((await scan('life')).changes).toEqual([]);
    expect((await store.inventory()).map((e) => e.digest).sort()).toEqual(
      [one.digest, two.digest, multi.digest, three.digest].sort(),
    );
  });

  it('inventories the same image in two repositories once', async () => {
    const shared = buildImage();
    await pushImage(client, 'twin/a', shared, ['v1']);
    await pushImage(client, 'twin/b', shared, ['release']);
    const result = await scan('twin');
    expect(result.run.summary).toMatchObject({ repositories: 2, images: 2, added: 2, inventoried: 1 });
    expect(result.inventoried).toEqual([
      expect.objectContaining({ digest: shared.digest, repository: 'twin/a', tags: ['v1'] }),
    ]);
  });

  it('applies include and exclude globs (exclude wins)', async () => {
    const image = buildImage();
    for (const repo of ['globs/team-a/api', 'globs/team-a/tmp-1', 'globs/team-b/api'])
      await pushImage(client, repo, image, ['v1']);
    const result = await scan('globs', { include: ['globs/team-a/**'], exclude: ['**/tmp-*'] });
    const loaded = await store.load(registry.url);
    expect([...loaded.state.keys()]).toEqual(['globs/team-a/api']);
    expect(result.run.summary.excluded).toBeGreaterThanOrEqual(2);
  });

  it('reads every page of repositories and tags with a small page size', async () => {
    const image = buildImage();
    const repos = ['pages/r1', 'pages/r2', 'pages/r3', 'pages/r4', 'pages/r5'];
    for (const repo of repos) await pushImage(client, repo, image, ['t1', 't2', 't3', 't4', 't5']);
    let catalogPages = 0;
    const tagRequests: string[] = [];
    const proxy = await startFaultProxy(registry.url, (req) => {
      if (req.url?.startsWith('/v2/_catalog')) catalogPages += 1;
      if (req.url?.startsWith('/v2/pages/r1/tags/list')) tagRequests.push(req.url);
      return undefined;
    });
    try {
      const source = await createRegistrySource(proxy.url, { env: {}, pageSize: 2 });
      // Scanned under the proxy's own registry id: a separate catalog from the direct one.
      const result = await scanRegistry(source, store, { include: ['pages/**'] });
      expect(result.run.summary).toMatchObject({ repositories: 5, tags: 25, images: 5 });
      expect(catalogPages).toBeGreaterThanOrEqual(3);
      // docker-registry 2.8 pages _catalog but answers tags/list in one page whatever `n` is; the
      // source asks with n=2 and would follow a Link header (paging itself is tested in test/registry).
      expect(tagRequests[0]).toMatch(/[?&]n=2\b/);
      const loaded = await store.load(proxy.url);
      expect([...loaded.state.keys()].sort()).toEqual(repos);
      expect(loaded.state.get('pages/r5')?.images.get(image.digest)?.tags).toEqual([
        't1',
        't2',
        't3',
        't4',
        't5',
      ]);
    } finally {
      await proxy.stop();
    }
  });
});

describe('catalog against a registry requiring bearer-token auth', () => {
  let registry: LocalRegistry;
  let dir: string;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    dir = await mkdtemp(join(tmpdir(), 'falcon-org-catalog-token-'));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('scans with credentials from the environment, and fails cleanly without them', async () => {
    const credentials = registry.credentials;
    if (!credentials) throw new Error('the token registry has no credentials');
    const client = new OciRegistryClient({ url: registry.url, credentials });
    const image = buildImage();
    await pushImage(client, 'secure/app', image, ['v1', 'v2']);
    const storeFile = join(dir, 'catalog.sqlite');

    const denied = await runCatalog(['scan', registry.url, '--store', storeFile]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).not.toContain(credentials.password);

    const saved = { ...process.env };
    process.env.FALCON_ORG_REGISTRY_USERNAME = credentials.username;
    process.env.FALCON_ORG_REGISTRY_PASSWORD = credentials.password;
    let granted;
    try {
      granted = await runCatalog(['scan', registry.url, '--store', storeFile, '--json']);
    } finally {
      process.env = saved;
    }
    expect(granted.code).toBe(0);
    expect(granted.stdout).not.toContain(credentials.password);
    const json = JSON.parse(granted.stdout) as {
      run: { summary: { images: number; tags: number; inventoried: number } };
    };
    expect(json.run.summary).toMatchObject({ images: 1, tags: 2, inventoried: 1 });
    expect(registry.tokenServer?.total()).toBeGreaterThan(0);
  });

  it('rejects a malformed registry argument with exit code 2', async () => {
    const result = await runCatalog(['scan', 'ftp://example.test', '--store', join(dir, 'x.sqlite')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/http\(s\):\/\/host\[:port\]/);
  });
});
