import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fetchTransport, nodeTransport } from '../../src/registry/transport.js';
import { listenOnLoopback } from '../services/free-port.js';

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return { server, url: await listenOnLoopback(server) };
}

describe('nodeTransport', () => {
  let storage: { server: Server; url: string };
  let registry: { server: Server; url: string };
  const seen: { where: string; headers: IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    storage = await listen((req, res) => {
      seen.push({ where: 'storage', headers: req.headers, body: '' });
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('blob-bytes');
    });
    registry = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ where: 'registry', headers: req.headers, body });
        if (req.url === '/v2/a/blobs/x') res.writeHead(307, { location: `${storage.url}/bucket/x` }).end();
        else if (req.url === '/v2/a/blobs/same') res.writeHead(307, { location: '/v2/a/blobs/here' }).end();
        else res.writeHead(201, { link: ['<a>; rel="next"'], 'x-multi': ['1', '2'] }).end('ok');
      });
    });
  });
  afterAll(async () => {
    for (const s of [storage, registry]) {
      s.server.closeAllConnections();
      await new Promise<void>((resolve) => s.server.close(() => resolve()));
    }
  });

  it('follows a redirect to another origin without the Authorization header', async () => {
    const transport = nodeTransport();
    seen.length = 0;
    const res = await transport({
      method: 'GET',
      url: `${registry.url}/v2/a/blobs/x`,
      headers: { authorization: 'Bearer secret-token' },
    });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${storage.url}/bucket/x`);
    expect(Buffer.from(res.body).toString()).toBe('blob-bytes');
    expect(seen[0]?.headers.authorization).toBe('Bearer secret-token');
    expect(seen[1]?.where).toBe('storage');
    expect(seen[1]?.headers.authorization).toBeUndefined();
    transport.close();
  });

  it('keeps Authorization on a same-origin redirect and sends bodies with their length', async () => {
    const transport = nodeTransport();
    seen.length = 0;
    await transport({
      method: 'GET',
      url: `${registry.url}/v2/a/blobs/same`,
      headers: { authorization: 'Basic x' },
    });
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Basic x', 'Basic x']);

    seen.length = 0;
    const res = await transport({
      method: 'PUT',
      url: `${registry.url}/v2/a/manifests/t`,
      headers: {},
      body: new Uint8Array(Buffer.from('{"schemaVersion":2}')),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('X-Multi')).toBe('1, 2');
    expect(seen[0]?.body).toBe('{"schemaVersion":2}');
    expect(seen[0]?.headers['content-length']).toBe('19');
    transport.close();
  });

  it('offers the same contract over fetch', async () => {
    seen.length = 0;
    const res = await fetchTransport()({
      method: 'PUT',
      url: `${registry.url}/v2/a/manifests/t`,
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array(Buffer.from('{}')),
    });
    expect(res.status).toBe(201);
    expect(Buffer.from(res.body).toString()).toBe('ok');
    expect(res.headers.get('link')).toBe('<a>; rel="next"');
    expect(seen[0]?.body).toBe('{}');
  });
});
