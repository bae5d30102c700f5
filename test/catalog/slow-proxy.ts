import { createServer, request, type Server } from 'node:http';

export interface SlowProxy {
  readonly url: string;
  /** Delay added before forwarding each tags/list request (0: none). */
  delayMs: number;
  /** tags/list requests received so far. */
  tagListings(): number;
  /** Resolves once `count` tags/list requests have been received since the call. */
  waitForTagListings(count: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy in front of a registry that can slow down tag listings, so a scan through it can be
 * caught (and killed) part-way. Everything is forwarded unchanged, Host header included, so the
 * registry's Link and Location headers point back at the proxy.
 */
export async function startSlowProxy(target: string): Promise<SlowProxy> {
  const targetUrl = new URL(target);
  let listings = 0;
  const waiters: { at: number; resolve: () => void }[] = [];
  const proxy = {
    delayMs: 0,
  };
  const server: Server = createServer((req, res) => {
    const isListing = /\/tags\/list/.test(req.url ?? '');
    if (isListing) {
      listings += 1;
      for (const w of waiters.filter((w) => listings >= w.at)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    const forward = (): void => {
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
    if (isListing && proxy.delayMs > 0) setTimeout(forward, proxy.delayMs);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    tagListings: () => listings,
    waitForTagListings: (count: number) =>
      new Promise<void>((resolve) => waiters.push({ at: listings + count, resolve })),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
