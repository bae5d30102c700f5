import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import { sha256Digest } from '../../src/registry/digest.js';
import { MediaType } from '../../src/registry/media-types.js';
import { buildImage, buildIndex, pushImage, type TestArtifact } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';

describe('manifest media types and digests on a real registry', () => {
  let registry: LocalRegistry;
  let client: OciRegistryClient;
  beforeAll(async () => {
    registry = await startRegistry();
    client = new OciRegistryClient({ url: registry.url });
  });
  afterAll(() => registry?.stop());

  const cases: [string, () => TestArtifact, string][] = [
    ['OCI manifest', () => buildImage({ format: 'oci', layers: 2 }), MediaType.OciManifest],
    ['Docker v2 manifest', () => buildImage({ format: 'docker' }), MediaType.DockerManifest],
    ['OCI index', () => buildIndex({ format: 'oci' }), MediaType.OciIndex],
    ['Docker manifest list', () => buildIndex({ format: 'docker' }), MediaType.DockerManifestList],
  ];

  it.each(cases)('%s: HEAD and GET give its media type and digest', async (_name, build, mediaType) => {
    const artifact = build();
    await pushImage(client, 'media/types', artifact, [`t-${artifact.digest.slice(7, 15)}`]);
    const tag = `t-${artifact.digest.slice(7, 15)}`;

    const head = await client.headManifest('media/types', tag);
    expect(head).toEqual({ digest: artifact.digest, mediaType, size: artifact.bytes.length });

    const got = await client.getManifest('media/types', tag);
    expect(got?.mediaType).toBe(mediaType);
    expect(got?.digest).toBe(artifact.digest);
    expect(sha256Digest(got!.bytes)).toBe(artifact.digest);
    expect(Buffer.from(got!.bytes).equals(Buffer.from(artifact.bytes))).toBe(true);

    // the registry's Docker-Content-Digest agrees with the sha256 of the body
    const res = await fetch(`${registry.url}/v2/media/types/manifests/${tag}`, {
      headers: { accept: mediaType },
    });
    const body = new Uint8Array(await res.arrayBuffer());
    expect(res.headers.get('docker-content-digest')).toBe(sha256Digest(body));
  });

  it('answers undefined for a missing manifest, by tag and by digest', async () => {
    expect(await client.headManifest('media/types', 'nope')).toBeUndefined();
    expect(await client.getManifest('media/types', `sha256:${'1'.repeat(64)}`)).toBeUndefined();
  });
});
