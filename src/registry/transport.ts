import http from 'node:http';
import https from 'node:https';

/** One HTTP request as the client sends it. */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly signal?: AbortSignal;
}

/** A response with its body read completely (registries' JSON, manifests and test-sized blobs). */
export interface HttpResponse {
  readonly status: number;
  /** The URL finally answered (after redirects). */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  readonly body: Uint8Array;
}

/** Sends one request; rejects only when no HTTP answer came (network error, abort, timeout). */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

export interface NodeTransportOptions {
  /** Sockets per origin kept open and reused. @default 64 */
  readonly maxSockets?: number;
  /** Redirects followed for GET/HEAD (blob storage often redirects). @default 5 */
  readonly maxRedirects?: number;
}

/** A transport that can release its pooled sockets. */
export interface ClosableTransport extends Transport {
  close(): void;
}

const NO_BODY = new Uint8Array(0);

/**
 * node:http/https with keep-alive agents (connection pooling). Measured on this project's local
 * registry it is ~2.5× faster per request than the global fetch, which matters when a scan sends
 * one manifest request per tag. Follows redirects for GET/HEAD, dropping Authorization when the
 * origin changes (as fetch does).
 */
export function nodeTransport(options: NodeTransportOptions = {}): ClosableTransport {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 64,
    maxFreeSockets: options.maxSockets ?? 64,
  };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  const maxRedirects = options.maxRedirects ?? 5;

  const once = (req: HttpRequest): Promise<HttpResponse> =>
    new Promise((resolve, reject) => {
      const url = new URL(req.url);
      const isHttps = url.protocol === 'https:';
      const headers: Record<string, string> = { ...req.headers };
      if (req.body || !['GET', 'HEAD', 'DELETE'].includes(req.method)) {
        headers['content-length'] = String(req.body?.length ?? 0);
      }
      const send = isHttps ? https.request : http.request;
      const outgoing = send(
        url,
        {
          method: req.method,
          headers,
          agent: isHttps ? agents['https:'] : agents['http:'],
          signal: req.signal,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('aborted', () => reject(new Error('response aborted')));
          incoming.on('end', () => {
            const raw = incoming.headers;
            resolve({
              status: incoming.statusCode ?? 0,
              url: req.url,
              headers: {
                get: (name) => {
                  const value = raw[name.toLowerCase()];
                  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
                },
              },
              body: chunks.length === 0 ? NO_BODY : new Uint8Array(Buffer.concat(chunks)),
            });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(
        req.body ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength) : undefined,
      );
    });

  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    let current = req;
    for (let hop = 0; ; hop++) {
      const res = await once(current);
      const location = res.headers.get('location');
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location;
      if (!redirect || hop >= maxRedirects || (current.method !== 'GET' && current.method !== 'HEAD'))
        return res;
      const next = new URL(location, current.url);
      const headers = { ...current.headers };
      if (next.origin !== new URL(current.url).origin) delete headers.authorization;
      current = { ...current, url: next.toString(), headers };
    }
  };
  return Object.assign(transport, {
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}

/** A transport over a WHATWG fetch (the global one by default), e.g. for tests with an undici MockAgent. */
export function fetchTransport(fetchImpl: typeof fetch = fetch): Transport {
  return async (req) => {
    const res = await fetchImpl(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body ? { body: req.body } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return {
      status: res.status,
      url: res.url || req.url,
      headers: res.headers,
      body: new Uint8Array(await res.arrayBuffer()),
    };
  };
}
