import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import { copyImage } from '../../src/registry/copy.js';
import { buildImage, buildIndex, pushImage } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';

describe('copying images between registries', () => {
  let from: LocalRegistry;
  let to: LocalRegistry;
  let src: OciRegistryClient;
  let dst: OciRegistryClient;
  beforeAll(async () => {
    [from, to] = await Promise.all([startRegistry(), startRegistry({ auth: 'token' })]);
    src = new OciRegistryClient({ url: from.url });
    dst = new OciRegistryClient({ url: to.url, credentials: to.credentials });
  });
  afterAll(async () => {
    await from?.stop();
    await to?.stop();
  });

  it('copies a multi-platform index with its children and blobs, digests unchanged', async () => {
    const index = buildIndex({ platforms: ['linux/amd64', 'linux/arm64'] });
    await pushImage(src, 'upstream/tool', index, ['2.1']);
    const result = await copyImage(
      { client: src, repository: 'upstream/tool', reference: '2.1' },
      { client: dst, repository: 'mirror/tool', tags: ['2.1', 'stable'] },
      { chunkSize: 100 }, // forces chunked uploads for the 256-byte layers
    );
    expect(result).toMatchObject({ digest: index.digest, manifests: 3, blobsUploaded: 4, blobsSkipped: 0 });
    expect((await dst.headManifest('mirror/tool', '2.1'))?.digest).toBe(index.digest);
    expect((await dst.headManifest('mirror/tool', 'stable'))?.digest).toBe(index.digest);
    for (const child of index.children) {
      expect((await dst.getManifest('mirror/tool', child.digest))?.digest).toBe(child.digest);
      for (const b of child.blobs) {
        expect(Buffer.from(await dst.getBlob('mirror/tool', b.digest)).equals(Buffer.from(b.bytes))).toBe(
          true,
        );
      }
    }
  });

  it('copies a Docker image and skips blobs the target already has', async () => {
    const image = buildImage({ format: 'docker', layers: 2 });
    await pushImage(src, 'upstream/app', image, ['1']);
    const first = await copyImage(
      { client: src, repository: 'upstream/app', reference: image.digest },
      { client: dst, repository: 'mirror/app', tags: ['1'] },
    );
    expect(first).toMatchObject({ digest: image.digest, blobsUploaded: 3 });
    const again = await copyImage(
      { client: src, repository: 'upstream/app', reference: '1' },
      { client: dst, repository: 'mirror/app' },
    );
    expect(again).toMatchObject({ digest: image.digest, blobsUploaded: 0, blobsSkipped: 3 });
  });

  it('mounts blobs across repositories of the same registry instead of uploading', async () => {
    const image = buildImage();
    await pushImage(dst, 'mirror/base', image, ['x']);
    const result = await copyImage(
      { client: dst, repository: 'mirror/base', reference: 'x' },
      { client: dst, repository: 'mirror/derived', tags: ['x'] },
    );
    expect(result).toMatchObject({ digest: image.digest, blobsMounted: 2, blobsUploaded: 0 });
    expect((await dst.headManifest('mirror/derived', 'x'))?.digest).toBe(image.digest);
  });
});
