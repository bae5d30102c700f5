/**
 * A local stand-in for the Falcon API (OAuth2 + registry connections) speaking the wire format of the
 * public swagger: form-encoded token requests answered 201, the `{meta, resources, errors}` envelope,
 * limit/offset pagination with meta.pagination, X-CS-TRACEID and rate-limit headers. Tests inspect its
 * state and inject the quirks seen in the wild.
 *
 * @example
 * const falcon = await FakeFalconServer.start();
 * falcon.rateLimit('registries.create', 2, { retryAfterSeconds: 3 });
 * const client = createFalconClient({ baseUrl: falcon.baseUrl, credentials: falcon.credentials });
 * // …
 * await falcon.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { errorReply, reply, type FakeApiError, type FakeReply } from './falcon/envelope.js';
import type { FakeHosts } from './falcon/hosts.js';
import { InjectionQueue, type FakeRoute, type Injection } from './falcon/quirks.js';
import { FakeFalconRoutes, routeOf, type FakeRequest, type RegistryBehaviour } from './falcon/routes.js';
import { newConnection, type FakeConnection, type FakeToken } from './falcon/state.js';
import { listenOnLoopback } from '../services/free-port.js';

export type { FakeRoute, Injection } from './falcon/quirks.js';
export type { FakeConnection, FakeToken } from './falcon/state.js';
export type { RegistryBehaviour } from './falcon/routes.js';
export type { FakeHost, FakeHosts } from './falcon/hosts.js';

export interface FakeFalconOptions {
  /** @default 'fake-client-id' */
  readonly clientId?: string;
  /** @default a fixed 40-character test secret */
  readonly clientSecret?: string;
  /** expires_in of issued tokens. @default 1799 */
  readonly tokenTtlSeconds?: number;
  /** The X-CS-Region header of token answers. @default 'us-1' */
  readonly region?: string;
}

/** One request as the fake saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly route: FakeRoute | undefined;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly bodyText: string;
  /** The status sent, or undefined if the client went away first / the fake hung up. */
  status: number | undefined;
  /** What was answered: 'normal' or the injection kind. */
  answeredBy: 'normal' | Injection['kind'];
  /** The answer's headers and body text, once sent. */
  response: { readonly headers: Readonly<Record<string, string>>; readonly bodyText: string } | undefined;
}

export class FakeFalconServer {
  readonly requests: RecordedRequest[] = [];
  readonly credentials: { readonly clientId: string; readonly clientSecret: string };
  /** Registry quirks (create status, duplicate answer, credential-validation failures). */
  readonly behaviour: RegistryBehaviour;
  /** The hosts (devices) Falcon sees; seed with `hosts.add({...})`. */
  readonly hosts: FakeHosts;
  tokenTtlSeconds: number;

  private readonly injections = new InjectionQueue();
  private readonly routes: FakeFalconRoutes;
  private readonly closing = new AbortController();
  private server: Server | undefined;
  private url = '';

  private constructor(options: FakeFalconOptions) {
    this.credentials = {
      clientId: options.clientId ?? 'fake-client-id',
      clientSecret: options.clientSecret ?? 'fake-secret-5f1e0c7a9b2d4e6f8a0b1c2d3e4f5a6b',
    };
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 1799;
    this.routes = new FakeFalconRoutes(
      this.credentials,
      () => this.tokenTtlSeconds,
      options.region ?? 'us-1',
    );
    this.behaviour = this.routes.behaviour;
    this.hosts = this.routes.hosts;
  }

  /** Starts on 127.0.0.1 with a free port. */
  static async start(options: FakeFalconOptions = {}): Promise<FakeFalconServer> {
    const fake = new FakeFalconServer(options);
    await fake.listen();
    return fake;
  }

  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  get baseUrl(): string {
    return this.url;
  }

  // ---- state -------------------------------------------------------------------------------

  /** Every stored connection, oldest first, including the write-only credential details. */
  connections(): FakeConnection[] {
    return [...this.routes.connections.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  connection(id: string): FakeConnection | undefined {
    return this.routes.connections.get(id);
  }

  /** Seeds a connection as if created earlier (e.g. by someone else). */
  addConnection(input: {
    url: string;
    type?: string;
    alias?: string;
    details?: Record<string, unknown>;
  }): FakeConnection {
    return this.routes.store(newConnection({ type: input.type ?? 'ecr', ...input }, Date.now()));
  }

  /** Seeds `count` ECR connections with distinct URLs; returns them. */
  addConnections(count: number, urlOf: (i: number) => string = defaultEcrUrl): FakeConnection[] {
    return Array.from({ length: count }, (_, i) => this.addConnection({ url: urlOf(i), alias: `seed-${i}` }));
  }

  deleteConnection(id: string): boolean {
    return this.routes.connections.delete(id);
  }

  /**
   * Adds an API client holding only the given scopes (console names, e.g. "Hosts: Read"); returns its
   * credentials. Its tokens are answered 403 on routes whose scope it lacks (see ROUTE_SCOPES).
   */
  addClient(clientId: string, scopes: readonly string[]): { clientId: string; clientSecret: string } {
    const clientSecret = `secret-of-${clientId}-7c1d9e2f4a6b8c0d`;
    this.routes.clients.set(clientId, { clientId, clientSecret, scopes: new Set(scopes), revoked: false });
    return { clientId, clientSecret };
  }

  /** Revokes an API client in Falcon: its token requests are refused (401) and its tokens stop working. */
  revokeClient(clientId: string): void {
    const client = this.routes.clients.get(clientId);
    if (client !== undefined) client.revoked = true;
    for (const token of this.routes.tokens.values()) if (token.clientId === clientId) token.revoked = true;
  }

  /** The CID (with checksum) and registry pull token the sensor and image endpoints answer. */
  get sensorDownload(): { ccid: string; pullToken: string } {
    return { ccid: this.routes.ccid, pullToken: this.routes.pullToken };
  }

  /** Tokens issued so far, oldest first. */
  tokens(): FakeToken[] {
    return [...this.routes.tokens.values()];
  }

  /** Requests to one route. */
  requestsTo(route: FakeRoute): RecordedRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  // ---- quirks ------------------------------------------------------------------------------

  /** Queues a one-shot answer for the next `times` requests to the route ('*' = any route). */
  inject(route: FakeRoute | '*', injection: Injection, times = 1): void {
    this.injections.add(route, injection, times);
  }

  /** The next `times` requests to the route answer 429 with the given headers. */
  rateLimit(
    route: FakeRoute | '*',
    times: number,
    headers: { retryAfterEpochSeconds?: number; retryAfterSeconds?: number },
  ): void {
    this.inject(route, { kind: 'rate-limit', ...headers }, times);
  }

  /** The next `times` requests to the route answer with a server error. */
  serverError(route: FakeRoute | '*', times: number, status = 503, message = 'service unavailable'): void {
    this.inject(route, { kind: 'status', status, errors: [{ code: status, message }] }, times);
  }

  /** The next `times` requests to the route are answered only after `ms`. */
  slow(route: FakeRoute | '*', ms: number, times = 1): void {
    this.inject(route, { kind: 'delay', ms }, times);
  }

  /** The next N creates of a new URL answer 400 "failed to validate registry credential". */
  failCredentialValidation(times: number, options: { saveAnyway?: boolean } = {}): void {
    this.behaviour.credentialValidationFailures = times;
    this.behaviour.saveDespiteValidationFailure = options.saveAnyway === true;
  }

  /** Every token issued so far is answered 401 from now on (as after expiry or invalidation). */
  expireTokens(): void {
    for (const token of this.routes.tokens.values()) token.expiresAtMs = 0;
  }

  pendingInjections(route?: FakeRoute | '*'): number {
    return this.injections.pending(route);
  }

  /** Drops every queued injection. */
  clearInjections(): void {
    this.injections.clear();
  }

  // ---- HTTP --------------------------------------------------------------------------------

  async close(): Promise<void> {
    this.closing.abort();
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  }

  private async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          send(
            res,
            errorReply(500, `fake failure: ${error instanceof Error ? error.message : String(error)}`),
          );
        }
      });
    });
    this.url = await listenOnLoopback(server);
    this.server = server;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      bodyText: Buffer.concat(chunks).toString('utf8'),
    };
    const route = routeOf(request.method, request.path);
    const record: RecordedRequest = {
      ...request,
      route,
      status: undefined,
      answeredBy: 'normal',
      response: undefined,
    };
    this.requests.push(record);
    if (route === undefined) {
      answer(res, record, errorReply(404, `no route for ${request.method} ${request.path}`));
      return;
    }
    const injection = this.injections.take(route);
    if (injection !== undefined) record.answeredBy = injection.kind;
    if (injection?.kind === 'delay') {
      try {
        await delay(injection.ms, undefined, { signal: this.closing.signal });
      } catch {
        return;
      }
      if (res.destroyed || req.socket.destroyed) return;
    } else if (injection?.kind === 'hang-up') {
      req.socket.destroy();
      return;
    } else if (injection !== undefined) {
      answer(res, record, injected(injection));
      return;
    }
    answer(res, record, this.routes.handle(route, request));
  }
}

function injected(injection: Exclude<Injection, { kind: 'delay' | 'hang-up' }>): FakeReply {
  switch (injection.kind) {
    case 'rate-limit': {
      const headers: Record<string, string> = {};
      if (injection.retryAfterEpochSeconds !== undefined) {
        headers['x-ratelimit-retryafter'] = String(injection.retryAfterEpochSeconds);
      }
      if (injection.retryAfterSeconds !== undefined)
        headers['retry-after'] = String(injection.retryAfterSeconds);
      return { ...errorReply(429, 'API rate limit exceeded.', headers) };
    }
    case 'status': {
      const errors: readonly FakeApiError[] = injection.errors ?? [];
      return reply(injection.status, { errors });
    }
    case 'raw':
      return {
        status: injection.status,
        headers: { 'content-type': injection.contentType ?? 'text/html' },
        body: injection.body,
      };
  }
}

function send(res: ServerResponse, reply: FakeReply): string | undefined {
  if (res.destroyed) return undefined;
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return text;
}

function answer(res: ServerResponse, record: RecordedRequest, reply: FakeReply): void {
  const text = send(res, reply);
  if (text === undefined) return;
  record.status = reply.status;
  record.response = { headers: reply.headers, bodyText: text };
}

/** https://<12 digits>.dkr.ecr.<region>.amazonaws.com for seeding. */
export function defaultEcrUrl(i: number): string {
  const account = String(100000000000 + i);
  return `https://${account}.dkr.ecr.us-east-1.amazonaws.com`;
}
