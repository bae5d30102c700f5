import { describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import { sha256Digest } from '../../src/registry/digest.js';
import { DigestMismatchError } from '../../src/registry/errors.js';
import { MediaType } from '../../src/registry/media-types.js';
import { OciRegistrySource } from '../../src/registry/oci-source.js';
import type { HttpRequest, HttpResponse, Transport } from '../../src/registry/transport.js';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** One repository `old` with tag `v1`, served as `manifest` under the digest `digest`. */
function registryServing(manifest: Uint8Array, mediaType: string, digest: string): Transport {
  return (req: HttpRequest) => {
    const path = new URL(req.url).pathname;
    const reply = (status: number, headers: Record<string, string>, body: Uint8Array): HttpResponse => ({
      status,
      url: req.url,
      headers: { get: (name) => headers[name.toLowerCase()] ?? null },
      body: req.method === 'HEAD' ? new Uint8Array(0) : body,
    });
    if (path === '/v2/old/tags/list') return Promise.resolve(reply(200, {}, encode({ tags: ['v1'] })));
    if (path === '/v2/old/manifests/v1' || path === `/v2/old/manifests/${digest}`) {
      return Promise.resolve(
        reply(200, { 'content-type': mediaType, 'docker-content-digest': digest }, manifest),
      );
    }
    return Promise.resolve(reply(404, {}, encode({ errors: [{ code: 'MANIFEST_UNKNOWN' }] })));
  };
}

describe('manifest digests', () => {
  // A signed schema 1 manifest: its digest is that of the payload without the signatures.
  const schema1 = encode({
    schemaVersion: 1,
    name: 'old',
    tag: 'v1',
    fsLayers: [],
    signatures: [{ protected: 'x' }],
  });
  const schema1Digest = sha256Digest(encode({ schemaVersion: 1, name: 'old', tag: 'v1', fsLayers: [] }));

  it('takes the registry digest of a legacy schema 1 manifest, so HEAD and GET scans agree', async () => {
    const transport = registryServing(schema1, MediaType.DockerSchema1Signed, schema1Digest);
    const client = new OciRegistryClient({ url: 'http://r.test', transport });
    expect((await client.getManifest('old', 'v1'))?.digest).toBe(schema1Digest);
    expect((await client.getManifest('old', schema1Digest))?.digest).toBe(schema1Digest);
    expect((await client.headManifest('old', 'v1'))?.digest).toBe(schema1Digest);
    const expected = [{ digest: schema1Digest, tags: ['v1'], mediaType: MediaType.DockerSchema1Signed }];
    for (const mode of ['get', 'head'] as const) {
      expect(await new OciRegistrySource({ client, mode }).listImages('old')).toEqual(expected);
    }
  });

  it('refuses manifest bytes that do not hash to the digest the registry announces for the tag', async () => {
    const bytes = encode({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] });
    const wrong = sha256Digest(encode('something else'));
    const client = new OciRegistryClient({
      url: 'http://r.test',
      transport: registryServing(bytes, MediaType.OciManifest, wrong),
    });
    await expect(client.getManifest('old', 'v1')).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(client.getManifest('old', wrong)).rejects.toBeInstanceOf(DigestMismatchError);
  });
});
