import { createServer, request, type IncomingMessage, type Server } from 'node:http';

import { listenOnLoopback } from './free-port.js';

export interface Fault {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Forward the request, but only after this long (to catch a client part-way). */
export interface Delay {
  readonly delayMs: number;
}

export interface FaultProxy {
  readonly url: string;
  /** Faults injected so far. */
  injected(): number;
  /** Requests forwarded to the target so far. */
  forwarded(): number;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy in front of a registry that answers a request with a fault instead of forwarding
 * it whenever `decide` says so (e.g. the first attempt of every request: 429, then 503, …), or
 * forwards it late when `decide` returns a delay.
 * Everything else is forwarded unchanged (Location and Link headers point at the proxy because
 * the registry builds them from the Host header it sees).
 */
export async function startFaultProxy(
  target: string,
  decide: (req: IncomingMessage, seen: number) => Fault | Delay | undefined,
): Promise<FaultProxy> {
  const targetUrl = new URL(target);
  const seen = new Map<string, number>();
  let injected = 0;
  let forwarded = 0;
  const server: Server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    const fault = decide(req, count);
    if (fault && 'status' in fault) {
      injected++;
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'injected fault' }] }));
      return;
    }
    const forward = (): void => {
      forwarded++;
      const upstream = request(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (fault && fault.delayMs > 0) setTimeout(forward, fault.delayMs);
    else forward();
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    injected: () => injected,
    forwarded: () => forwarded,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
