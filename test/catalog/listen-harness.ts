import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventListener, type ListenerLog, type ListenerOptions } from '../../src/catalog/events/listener.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { createRegistryProbe } from '../../src/cli/catalog-source.js';

/** A token as `catalog listen` wants one (16+ characters). */
export const TOKEN = 'test-token-0123456789abcdef';

/**
 * An HTTP endpoint on a free loopback port whose handler is set later: the registry must know
 * where to post before it starts, the listener must know the registry's URL before it is built.
 * Every body posted is kept in `bodies`; `drop` makes the endpoint answer 202 to matching bodies
 * without passing them on (a notification lost on the way).
 */
export interface Endpoint {
  readonly url: string;
  readonly bodies: string[];
  /** Answers of the handler, by status. */
  readonly statuses: number[];
  setHandler(handler: RequestListener): void;
  drop(predicate: ((body: string) => boolean) | undefined): void;
  close(): Promise<void>;
}

export async function startEndpoint(path = '/events'): Promise<Endpoint> {
  let handler: RequestListener | undefined;
  let dropping: ((body: string) => boolean) | undefined;
  const bodies: string[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      res.on('finish', () => statuses.push(res.statusCode));
      if (!handler || dropping?.(body)) {
        res.writeHead(handler ? 202 : 503).end();
        return;
      }
      // Hand the body on as if it had just arrived.
      handler(new ReplayedRequest(req, body) as unknown as IncomingMessage, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    bodies,
    statuses,
    setHandler: (h) => (handler = h),
    drop: (p) => (dropping = p),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An IncomingMessage stand-in whose body is given again (the original was read by the endpoint). */
class ReplayedRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly socket: IncomingMessage['socket'];
  constructor(
    original: IncomingMessage,
    private readonly body: string,
  ) {
    this.method = original.method;
    this.url = original.url;
    this.headers = original.headers;
    this.socket = original.socket;
  }
  on(event: string, listener: (arg?: unknown) => void): this {
    if (event === 'data') queueMicrotask(() => listener(Buffer.from(this.body)));
    if (event === 'end') queueMicrotask(() => queueMicrotask(() => listener()));
    return this;
  }
}

export interface RunningListener {
  readonly listener: EventListener;
  readonly logs: ListenerLog[];
  stop(): Promise<number>;
}

/** Builds a listener for a registry on an endpoint and starts it. */
export async function listen(
  endpoint: Endpoint,
  registryUrl: string,
  store: CatalogStore,
  options: Partial<ListenerOptions> = {},
): Promise<RunningListener> {
  const probe = await createRegistryProbe(registryUrl, {});
  const logs: ListenerLog[] = [];
  const listener = new EventListener({
    probe,
    store,
    token: TOKEN,
    log: (entry) => logs.push(entry),
    retry: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  endpoint.setHandler(listener.handle);
  listener.start();
  return {
    listener,
    logs,
    stop: async () => {
      const left = await listener.stop(5000);
      probe.close?.();
      return left;
    },
  };
}

/** Polls until `check` passes (returns without throwing) or `ms` pass; then throws its last error. */
export async function eventually(check: () => Promise<void> | void, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** POSTs a body to an endpoint as the registry would. */
export async function post(url: string, body: string, token: string | null = TOKEN): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/vnd.docker.distribution.events.v1+json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}
