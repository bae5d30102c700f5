import { describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import type { HttpRequest, HttpResponse, Transport } from '../../src/registry/transport.js';

function answer(status: number, headers: Record<string, string>, body: unknown): HttpResponse {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    status,
    url: '',
    headers: { get: (name) => lower.get(name.toLowerCase()) ?? null },
    body: new TextEncoder().encode(JSON.stringify(body)),
  };
}

/**
 * A registry that wants a token for two scopes on tags/list, but only says so once the first token
 * (for the scope of its first challenge) is refused with insufficient_scope.
 */
function twoStepRegistry(): { transport: Transport; tokenRequests: string[][] } {
  const tokenRequests: string[][] = [];
  const challenge = (scope: string): string =>
    `Bearer realm="http://r.test/token",service="r",scope="${scope}"`;
  const transport: Transport = (req: HttpRequest) => {
    const url = new URL(req.url);
    if (url.pathname === '/token') {
      const scopes = url.searchParams.getAll('scope').sort();
      tokenRequests.push(scopes);
      return Promise.resolve(answer(200, {}, { token: scopes.join('+'), expires_in: 300 }));
    }
    const auth = req.headers.authorization;
    if (!auth)
      return Promise.resolve(answer(401, { 'www-authenticate': challenge('repository:x:pull') }, {}));
    if (!auth.includes('registry:catalog:*')) {
      return Promise.resolve(
        answer(
          401,
          { 'www-authenticate': `${challenge('registry:catalog:*')},error="insufficient_scope"` },
          {},
        ),
      );
    }
    return Promise.resolve(answer(200, {}, { name: 'x', tags: ['v1'] }));
  };
  return { transport, tokenRequests };
}

describe('bearer auth with a scope the registry names late', () => {
  it('fetches a token for the larger set of scopes instead of giving up', async () => {
    const { transport, tokenRequests } = twoStepRegistry();
    const client = new OciRegistryClient({ url: 'http://r.test', transport });
    expect(await client.listTags('x')).toEqual(['v1']);
    expect(tokenRequests).toEqual([['repository:x:pull'], ['registry:catalog:*', 'repository:x:pull']]);
  });
});
