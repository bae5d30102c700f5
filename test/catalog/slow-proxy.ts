import { startFaultProxy } from '../services/fault-proxy.js';

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
 * A proxy in front of a registry that can slow down tag listings, so a scan through it can be
 * caught (and killed) part-way. Everything is forwarded unchanged (see startFaultProxy).
 */
export async function startSlowProxy(target: string): Promise<SlowProxy> {
  let listings = 0;
  const waiters: { at: number; resolve: () => void }[] = [];
  const state = { delayMs: 0 };
  const proxy = await startFaultProxy(target, (req) => {
    if (!/\/tags\/list/.test(req.url ?? '')) return undefined;
    listings += 1;
    for (const w of waiters.filter((w) => listings >= w.at)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    return { delayMs: state.delayMs };
  });
  return Object.assign(state, {
    url: proxy.url,
    tagListings: () => listings,
    waitForTagListings: (count: number) =>
      new Promise<void>((resolve) => waiters.push({ at: listings + count, resolve })),
    stop: () => proxy.stop(),
  });
}
