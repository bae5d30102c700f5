import { createServer, type Server } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import { nextLink } from '../../src/registry/link-header.js';
import { OciRegistrySource } from '../../src/registry/oci-source.js';
import { startFaultProxy, type FaultProxy } from '../services/fault-proxy.js';
import { listenOnLoopback } from '../services/free-port.js';
import { buildImage, pushImage } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';

describe('catalog pagination against a real registry', () => {
  let registry: LocalRegistry;
  let proxy: FaultProxy;
  const names = ['p/a', 'p/b', 'p/c', 'p/d', 'p/e'];
  beforeAll(async () => {
    registry = await startRegistry();
    const client = new OciRegistryClient({ url: registry.url });
    const image = buildImage();
    for (const name of names) await pushImage(client, name, image, ['1']);
    proxy = await startFaultProxy(registry.url, () => undefined); // only counts requests
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('follows Link headers page by page with n=2', async () => {
    const client = new OciRegistryClient({ url: proxy.url });
    const pages: string[][] = [];
    for await (const page of client.catalogPages({ pageSize: 2 })) pages.push(page);
    expect(pages).toEqual([['p/a', 'p/b'], ['p/c', 'p/d'], ['p/e']]);
    expect(proxy.forwarded()).toBe(3);
  });

  it('collects every page through the source with a page size option', async () => {
    const source = new OciRegistrySource({
      client: new OciRegistryClient({ url: registry.url }),
      pageSize: 3,
    });
    expect(await source.listRepositories()).toEqual(names);
  });
});

describe('tag pagination (distribution 2.8 ignores n for tags, so a fake registry that honours it)', () => {
  let server: Server;
  let url: string;
  const requests: string[] = [];
  const tags = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const u = new URL(req.url ?? '/', 'http://x');
      const n = Number(u.searchParams.get('n') ?? '100');
      const last = u.searchParams.get('last');
      const start = last ? tags.indexOf(last) + 1 : 0;
      const page = tags.slice(start, start + n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (start + n < tags.length) {
        // alternate relative and absolute Link targets, as registries do both
        const target = `/v2/app/tags/list?n=${n}&last=${page.at(-1)}`;
        headers.link = `<${requests.length % 2 ? target : `${url}${target}`}>; rel="next"`;
      }
      res.writeHead(200, headers).end(JSON.stringify({ name: 'app', tags: page }));
    });
    url = await listenOnLoopback(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads every page with n=3 following the Link header', async () => {
    const client = new OciRegistryClient({ url });
    expect(await client.listTags('app', { pageSize: 3 })).toEqual(tags);
    expect(requests).toEqual([
      '/v2/app/tags/list?n=3',
      '/v2/app/tags/list?n=3&last=t3',
      '/v2/app/tags/list?n=3&last=t6',
    ]);
  });
});

describe('Link header parsing', () => {
  it('finds rel="next" among several links and resolves it', () => {
    const header =
      '<https://r.example/v2/_catalog?n=2&last=b>; rel="next", <https://r.example/v2/_catalog>; rel="first"';
    expect(nextLink(header, 'https://r.example/v2/_catalog?n=2')).toBe(
      'https://r.example/v2/_catalog?n=2&last=b',
    );
    expect(nextLink('</v2/x/tags/list?last=a&n=1>; rel=next', 'http://h:5000/v2/x/tags/list?n=1')).toBe(
      'http://h:5000/v2/x/tags/list?last=a&n=1',
    );
    expect(nextLink('<https://r.example/v2/_catalog>; rel="prev"', 'https://r.example/')).toBeUndefined();
    expect(nextLink(null, 'https://r.example/')).toBeUndefined();
  });
});

describe('a registry whose Link points back at a page already read', () => {
  let server: Server;
  let url = '';
  let requests = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests += 1;
      // page 2 links back to page 1, which links to page 2 again: a cycle
      const second = req.url?.includes('last=') ?? false;
      res
        .writeHead(200, {
          'content-type': 'application/json',
          link: `<${second ? '/v2/loop/tags/list?n=1' : '/v2/loop/tags/list?n=1&last=a'}>; rel="next"`,
        })
        .end(JSON.stringify({ name: 'loop', tags: [second ? 'b' : 'a'] }));
    });
    url = await listenOnLoopback(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('stops instead of reading the same pages forever', async () => {
    const client = new OciRegistryClient({ url });
    try {
      expect(await client.listTags('loop', { pageSize: 1 })).toEqual(['a', 'b']);
      expect(requests).toBe(2);
    } finally {
      client.close();
    }
  });
});
