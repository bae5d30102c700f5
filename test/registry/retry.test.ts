import { createServer, type Server } from 'node:http';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { OciRegistryClient } from '../../src/registry/client.js';
import { RegistryHttpError, RegistryNetworkError } from '../../src/registry/errors.js';
import { OciRegistrySource } from '../../src/registry/oci-source.js';
import { startFaultProxy, type FaultProxy } from '../services/fault-proxy.js';
import { freePort, listenOnLoopback } from '../services/free-port.js';
import { buildImage, pushImage } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';

const fast = { retries: 3, baseDelayMs: 1, maxDelayMs: 5 };

describe('retries through a fault-injecting proxy in front of a real registry', () => {
  let registry: LocalRegistry;
  let proxy: FaultProxy | undefined;
  let digestA: string;
  beforeAll(async () => {
    registry = await startRegistry();
    const client = new OciRegistryClient({ url: registry.url });
    digestA = await pushImage(client, 'flaky/a', buildImage(), ['1', '2']);
    await pushImage(client, 'flaky/b', buildImage(), ['1']);
  });
  afterEach(() => proxy?.stop());
  afterAll(() => registry?.stop());

  it('retries 429 (honouring Retry-After) and 5xx and ends with the right answer', async () => {
    // first attempt of each request: 429, second: 503, both with Retry-After 0; third goes through.
    // The backoff would be a minute: the test only finishes in time because Retry-After wins.
    proxy = await startFaultProxy(registry.url, (_req, seen) =>
      seen === 1
        ? { status: 429, headers: { 'retry-after': '0' } }
        : seen === 2
          ? { status: 503, headers: { 'retry-after': '0' } }
          : undefined,
    );
    const slowBackoff = { retries: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const source = new OciRegistrySource({
      client: new OciRegistryClient({ url: proxy.url, retry: slowBackoff }),
    });
    expect(await source.listRepositories()).toEqual(['flaky/a', 'flaky/b']);
    const images = await source.listImages('flaky/a');
    expect(images.map((i) => [i.digest, i.tags])).toEqual([[digestA, ['1', '2']]]);
    // every request met a 429 and a 503 before it was let through
    expect(proxy.forwarded()).toBeGreaterThan(0);
    expect(proxy.injected()).toBe(2 * proxy.forwarded());
  });

  it('gives up after the configured retries with status, URL and registry error codes', async () => {
    proxy = await startFaultProxy(registry.url, () => ({ status: 503 }));
    const client = new OciRegistryClient({ url: proxy.url, retry: fast });
    const error = await client.listTags('flaky/a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryHttpError);
    const http = error as RegistryHttpError;
    expect(http.status).toBe(503);
    expect(http.url).toBe(`${proxy.url}/v2/flaky/a/tags/list?n=1000`);
    expect(http.codes).toEqual([{ code: 'TOOMANYREQUESTS', message: 'injected fault' }]);
    expect(proxy.injected()).toBe(4); // first try + 3 retries
  });
});

describe('network failures and errors', () => {
  let server: Server;
  let url: string;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.url?.startsWith('/v2/hang/')) return; // never answers
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }],
        }),
      );
    });
    url = await listenOnLoopback(server);
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  it('retries a request that times out, then reports it without credentials in the URL', async () => {
    hits = 0;
    const client = new OciRegistryClient({
      url: url.replace('http://', 'http://user:secret@'),
      timeoutMs: 1000,
      retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const error = await client.getBlob('hang', `sha256:${'0'.repeat(64)}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryNetworkError);
    expect((error as Error).message).not.toContain('secret');
    expect(hits).toBe(2);
  });

  it('reports a refused connection as a network error after retries', async () => {
    const port = await freePort();
    const client = new OciRegistryClient({ url: `http://127.0.0.1:${port}`, retry: fast });
    await expect(client.ping()).rejects.toBeInstanceOf(RegistryNetworkError);
  });

  it('maps a registry error body to codes', async () => {
    const client = new OciRegistryClient({ url, retry: fast });
    const error = (await client
      .getBlob('x', `sha256:${'0'.repeat(64)}`)
      .catch((e: unknown) => e)) as RegistryHttpError;
    expect(error).toBeInstanceOf(RegistryHttpError);
    expect(error.status).toBe(404);
    expect(error.codes[0]?.code).toBe('NAME_UNKNOWN');
    expect(error.message).toContain('NAME_UNKNOWN');
  });
});
