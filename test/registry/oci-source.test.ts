import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import { MediaType } from '../../src/registry/media-types.js';
import { OciRegistrySource } from '../../src/registry/oci-source.js';
import { startFaultProxy, type FaultProxy } from '../services/fault-proxy.js';
import { buildImage, buildIndex, pushImage, type TestImage, type TestIndex } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';

describe('OciRegistrySource', () => {
  let registry: LocalRegistry;
  let proxy: FaultProxy;
  let image: TestImage;
  let other: TestImage;
  let index: TestIndex;
  let manifestGets = 0;
  let manifestHeads = 0;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    const client = new OciRegistryClient({ url: registry.url, credentials: registry.credentials });
    image = buildImage({ layers: 2 });
    other = buildImage({ format: 'docker' });
    index = buildIndex({ platforms: ['linux/amd64', 'linux/arm64/v8', 'windows/amd64'] });
    await pushImage(client, 'src/app', image, ['1.0', '1', 'latest']);
    await pushImage(client, 'src/app', other, ['0.9']);
    await pushImage(client, 'src/app', index, ['multi']);
    await pushImage(client, 'src/empty', image); // no tags
    proxy = await startFaultProxy(registry.url, (req) => {
      if (req.method === 'GET' && req.url?.includes('/manifests/')) manifestGets++;
      if (req.method === 'HEAD' && req.url?.includes('/manifests/')) manifestHeads++;
      return undefined;
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('groups tags by digest with media type, platforms of an index and size of an image', async () => {
    const source = new OciRegistrySource({
      client: new OciRegistryClient({ url: registry.url, credentials: registry.credentials }),
      pageSize: 2,
      concurrency: 3,
    });
    expect(source.registry).toBe(registry.url);
    expect(await source.listRepositories()).toEqual(['src/app', 'src/empty']);
    const records = await source.listImages('src/app');
    const expected = [
      {
        digest: image.digest,
        tags: ['1', '1.0', 'latest'],
        mediaType: MediaType.OciManifest,
        sizeBytes: image.sizeBytes,
      },
      {
        digest: other.digest,
        tags: ['0.9'],
        mediaType: MediaType.DockerManifest,
        sizeBytes: other.sizeBytes,
      },
      {
        digest: index.digest,
        tags: ['multi'],
        mediaType: MediaType.OciIndex,
        platforms: ['linux/amd64', 'linux/arm64/v8', 'windows/amd64'],
      },
    ].sort((a, b) => a.digest.localeCompare(b.digest));
    expect(records).toEqual(expected);
    expect(await source.listImages('src/empty')).toEqual([]);
    expect(await source.listImages('src/never-existed')).toEqual([]);
  });

  it('skips the GET for digests the caller already knows and caches details per digest', async () => {
    const client = new OciRegistryClient({ url: proxy.url, credentials: registry.credentials });
    manifestGets = 0;
    const known = new OciRegistrySource({
      client,
      mode: 'head',
      knownDigest: (d) => d === image.digest || d === other.digest,
    });
    const records = await known.listImages('src/app');
    expect(records.find((r) => r.digest === image.digest)).toEqual({
      digest: image.digest,
      tags: ['1', '1.0', 'latest'],
      mediaType: MediaType.OciManifest,
    });
    expect(manifestGets).toBe(1); // only the index

    await known.listImages('src/app');
    expect(manifestGets).toBe(1); // index details cached

    manifestGets = 0;
    const headsOnly = new OciRegistrySource({ client, mode: 'head-only' });
    expect((await headsOnly.listImages('src/app')).map((r) => r.platforms)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(manifestGets).toBe(0);
  });

  it("'get' mode sends exactly one manifest request per tag", async () => {
    const client = new OciRegistryClient({ url: proxy.url, credentials: registry.credentials });
    manifestGets = 0;
    const source = new OciRegistrySource({ client, mode: 'get' });
    const records = await source.listImages('src/app');
    expect(records.flatMap((r) => r.tags)).toHaveLength(5);
    expect(manifestGets).toBe(5);
    expect(records.find((r) => r.digest === index.digest)?.platforms).toEqual([
      'linux/amd64',
      'linux/arm64/v8',
      'windows/amd64',
    ]);
  });

  it("'auto' reads each tag's manifest on a cold scan and only HEADs tags of known digests on a warm one", async () => {
    const client = new OciRegistryClient({ url: proxy.url, credentials: registry.credentials });
    manifestGets = 0;
    manifestHeads = 0;
    const cold = await new OciRegistrySource({ client }).listImages('src/app');
    expect([manifestGets, manifestHeads]).toEqual([5, 0]);

    const byDigest = new Map(cold.map((r) => [r.digest, r]));
    const known = {
      tagDigests: new Map(cold.flatMap((r) => r.tags.map((t): [string, string] => [t, r.digest]))),
      describe: (digest: string) => byDigest.get(digest),
    };
    manifestGets = 0;
    manifestHeads = 0;
    const warm = await new OciRegistrySource({ client }).listImages('src/app', undefined, known);
    expect(warm).toEqual(cold);
    expect([manifestGets, manifestHeads]).toEqual([0, 5]);
  });
});
