import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import {
  buildImage,
  buildIndex,
  deleteImage,
  deleteTag,
  pushFixture,
  pushImage,
  tagImage,
} from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';

describe('local registry harness', () => {
  let registry: LocalRegistry;
  let client: OciRegistryClient;

  beforeAll(async () => {
    registry = await startRegistry();
    client = new OciRegistryClient({ url: registry.url });
  });
  afterAll(() => registry?.stop());

  it('pushes images and indexes, retags, moves and deletes tags and images', async () => {
    const a = buildImage();
    const b = buildImage({ format: 'docker', layers: 2 });
    const idx = buildIndex();
    await pushImage(client, 'team/app', a, ['1.0', 'latest']);
    await pushImage(client, 'team/app', b, ['2.0']);
    await pushImage(client, 'team/app', idx, ['multi']);
    expect((await client.listTags('team/app')).sort()).toEqual(['1.0', '2.0', 'latest', 'multi']);

    await tagImage(client, 'team/app', a.digest, 'stable');
    expect((await client.headManifest('team/app', 'stable'))?.digest).toBe(a.digest);
    await tagImage(client, 'team/app', b.digest, 'latest'); // move
    expect((await client.headManifest('team/app', 'latest'))?.digest).toBe(b.digest);

    expect(await deleteTag(client, 'team/app', 'stable')).toBe(true);
    expect(await client.headManifest('team/app', 'stable')).toBeUndefined();
    expect((await client.headManifest('team/app', '1.0'))?.digest).toBe(a.digest);

    expect(await deleteImage(client, 'team/app', b.digest)).toBe(true);
    expect((await client.listTags('team/app')).sort()).toEqual(['1.0', 'multi']);
    expect(await deleteTag(client, 'team/app', 'gone-already')).toBe(false);
  });

  it('deletes one tag of a Docker image and of a Docker manifest list, keeping the other tags', async () => {
    const image = buildImage({ format: 'docker' });
    const list = buildIndex({ format: 'docker' });
    await pushImage(client, 'team/docker', image, ['a', 'b']);
    await pushImage(client, 'team/docker', list, ['l1', 'l2']);
    expect(await deleteTag(client, 'team/docker', 'a')).toBe(true);
    expect(await deleteTag(client, 'team/docker', 'l1')).toBe(true);
    expect((await client.listTags('team/docker')).sort()).toEqual(['b', 'l2']);
    expect((await client.headManifest('team/docker', 'b'))?.digest).toBe(image.digest);
    expect((await client.headManifest('team/docker', 'l2'))?.digest).toBe(list.digest);
  });

  it('pushes a fixture of many repositories and tags', async () => {
    const names = await pushFixture(client, { repositories: 6, tagsPerRepository: 4, prefix: 'fx' });
    expect(names).toHaveLength(6);
    for (const name of names) expect((await client.listTags(name)).sort()).toEqual(['v0', 'v1', 'v2', 'v3']);
    const d1 = await client.headManifest('fx-0000', 'v0');
    const d2 = await client.headManifest('fx-0001', 'v0');
    expect(d1?.digest).not.toBe(d2?.digest);
  });
});
