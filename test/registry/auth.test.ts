import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import { RegistryAuthError } from '../../src/registry/errors.js';
import { buildImage, pushImage } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';

describe('basic auth', () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'basic' });
  });
  afterAll(() => registry?.stop());

  it('pushes and lists with the right credentials', async () => {
    const client = new OciRegistryClient({ url: registry.url, credentials: registry.credentials });
    const image = buildImage();
    await pushImage(client, 'secure/app', image, ['1']);
    expect(await client.listRepositories()).toEqual(['secure/app']);
    expect((await client.headManifest('secure/app', '1'))?.digest).toBe(image.digest);
  });

  it('fails with a user error, no password in the message, when credentials are wrong or missing', async () => {
    const wrong = new OciRegistryClient({
      url: registry.url,
      credentials: { username: 'tester', password: 'not-the-password' },
    });
    const error = await wrong.listRepositories().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as RegistryAuthError).status).toBe(401);
    expect((error as Error).message).toContain('credentials refused');
    expect((error as Error).message).not.toContain('not-the-password');

    const anonymous = new OciRegistryClient({ url: registry.url });
    await expect(anonymous.listRepositories()).rejects.toThrow(/requires credentials/);
  });
});

describe('bearer token auth', () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
  });
  afterAll(() => registry?.stop());

  it('follows the challenge, fetches one token per scope and reuses it', async () => {
    const client = new OciRegistryClient({ url: registry.url, credentials: registry.credentials });
    const tokens = registry.tokenServer!;
    const image = buildImage();
    await pushImage(client, 'tok/app', image, ['a', 'b', 'c']);
    const pushScope = 'repository:tok/app:pull,push';
    expect(tokens.requests.get(pushScope)).toBe(1);

    expect(tokens.requests.get('repository:tok/app:pull')).toBe(1); // hasBlob before uploading
    const afterPush = tokens.total();
    await client.headManifest('tok/app', 'a');
    expect(tokens.total()).toBe(afterPush);

    // A fresh client: six parallel requests meet the challenge at once and share one token request.
    const fresh = new OciRegistryClient({ url: registry.url, credentials: registry.credentials });
    await Promise.all(['a', 'b', 'c', 'a', 'b', 'c'].map((t) => fresh.headManifest('tok/app', t)));
    expect((await fresh.listTags('tok/app')).sort()).toEqual(['a', 'b', 'c']);
    expect(tokens.requests.get('repository:tok/app:pull')).toBe(2);
    expect(tokens.total()).toBe(afterPush + 1);

    expect(await client.listRepositories()).toEqual(['tok/app']);
    expect(await client.listRepositories()).toEqual(['tok/app']);
    expect(tokens.requests.get('registry:catalog:*')).toBe(1);
  });

  it('renews a token once it is due to expire', async () => {
    let now = Date.now();
    const client = new OciRegistryClient({
      url: registry.url,
      credentials: registry.credentials,
      now: () => now,
    });
    const tokens = registry.tokenServer!;
    await pushImage(client, 'tok/renew', buildImage(), ['x']);
    await client.headManifest('tok/renew', 'x');
    const before = tokens.requests.get('repository:tok/renew:pull');
    expect(before).toBe(1);
    await client.headManifest('tok/renew', 'x');
    expect(tokens.requests.get('repository:tok/renew:pull')).toBe(before);
    now += 300_000; // the default lifetime of the test token server
    await client.headManifest('tok/renew', 'x');
    expect(tokens.requests.get('repository:tok/renew:pull')).toBe(2);
  });

  it('renews a token the registry rejects, then carries on', async () => {
    const client = new OciRegistryClient({ url: registry.url, credentials: registry.credentials });
    await pushImage(client, 'tok/stale', buildImage(), ['x']);
    // A second registry whose tokens this registry does not trust is not at hand; instead poison the
    // cache by asking with a token issued for another repository's scope.
    const other = await fetch(
      `${registry.tokenServer!.realm}?service=falcon-org-test-registry&scope=repository:elsewhere:pull`,
      {
        headers: {
          authorization: `Basic ${Buffer.from(`tester:${registry.credentials!.password}`).toString('base64')}`,
        },
      },
    );
    const { token } = (await other.json()) as { token: string };
    const res = await fetch(`${registry.url}/v2/tok/stale/tags/list`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    expect(res.status).toBe(401);
    expect(await client.listTags('tok/stale')).toEqual(['x']);
  });

  it('reports refused credentials at the token service as a user error', async () => {
    const client = new OciRegistryClient({
      url: registry.url,
      credentials: { username: 'tester', password: 'nope' },
    });
    const error = await client.listRepositories().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toContain('token service refused');
    expect((error as Error).message).not.toContain('nope');
  });
});
