import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small Falcon API stand-in for the two calls image mirroring needs (OAuth2 token, CCID, registry
 * pull token), in the public wire format: token answered 201, `{meta, resources, errors}` envelope.
 */
export class FakeFalconImagesApi {
  readonly requests: { method: string; path: string; authorization?: string }[] = [];
  readonly clientId = 'images-client';
  readonly clientSecret = 'images-secret-0123456789abcdef0123456789';
  ccid = '0123456789ABCDEF0123456789ABCDEF-A1';
  pullToken = 'pull-token-value';

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeFalconImagesApi> {
    const holder: { api?: FakeFalconImagesApi } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const api = holder.api;
        if (!api) return;
        const url = new URL(req.url ?? '/', 'http://x');
        api.requests.push({
          method: req.method ?? '',
          path: url.pathname,
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        });
        const send = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        const meta = { query_time: 0.01, trace_id: 'trace-1', powered_by: 'fake' };
        if (req.method === 'POST' && url.pathname === '/oauth2/token') {
          const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
          if (form.get('client_id') !== api.clientId || form.get('client_secret') !== api.clientSecret) {
            return send(401, { meta, resources: [], errors: [{ code: 401, message: 'access denied' }] });
          }
          return send(201, { access_token: 'access-token', token_type: 'bearer', expires_in: 1799 });
        }
        if (req.headers.authorization !== 'Bearer access-token') {
          return send(401, { meta, resources: [], errors: [{ code: 401, message: 'access denied' }] });
        }
        if (req.method === 'GET' && url.pathname === '/sensors/queries/installers/ccid/v1') {
          return send(200, { meta, resources: [api.ccid], errors: [] });
        }
        if (
          req.method === 'GET' &&
          url.pathname === '/container-security/entities/image-registry-credentials/v1'
        ) {
          return send(200, { meta, resources: [{ token: api.pullToken }], errors: [] });
        }
        return send(404, { meta, resources: [], errors: [{ code: 404, message: 'not found' }] });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = new FakeFalconImagesApi(server);
    holder.api = api;
    return api;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
