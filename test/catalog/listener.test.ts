import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogStoreError } from '../../src/catalog/errors.js';
import { EventListener, type ListenerLog } from '../../src/catalog/events/listener.js';
import { RejectReason } from '../../src/catalog/events/model.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { FakeRegistry } from './fake-source.js';
import { memoryStore } from './helpers.js';
import { eventually, TOKEN } from './listen-harness.js';

/** A store whose recordRejections fails (as a store that is down) while `down` is set. */
function flakyRejections(store: CatalogStore, state: { down: boolean }): CatalogStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'recordRejections' && state.down)
        return () => Promise.reject(new CatalogStoreError('connection refused'));
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function serve(listener: EventListener): Promise<string> {
  server = createServer(listener.handle);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/events`;
}

const post = (url: string, body: string): Promise<number> =>
  fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body }).then((r) => r.status);

describe('the listener while the store cannot record refusals', () => {
  it('holds at most 1,000 refusals in memory, counts every one, and records the held ones once the store is back', async () => {
    const registry = new FakeRegistry('http://registry.test');
    const state = { down: true };
    const store = await memoryStore();
    const logs: ListenerLog[] = [];
    const listener = new EventListener({
      probe: registry,
      store: flakyRejections(store, state),
      token: TOKEN,
      log: (entry) => logs.push(entry),
      retry: { initialMs: 10, maxMs: 20 },
      now: () => new Date(registry.clock),
    });
    listener.start();
    try {
      const url = await serve(listener);
      // 1,500 events without an id: each is refused on its own, the envelope is accepted.
      const events = Array.from({ length: 1500 }, (_, i) => ({ action: 'push', n: i }));
      expect(await post(url, JSON.stringify({ events }))).toBe(202);
      await eventually(() => expect(listener.stats().storeUp).toBe(false));
      // Bodies that are not envelopes are still answered 400 and counted while the store is down.
      for (let i = 0; i < 20; i += 1) expect(await post(url, 'not json')).toBe(400);
      expect(listener.stats().rejected).toBe(1520);

      state.down = false;
      await eventually(() => expect(listener.stats().storeUp).toBe(true), 5000);
      const [row] = await store.status();
      expect(row?.registry).toBe('http://registry.test');
      expect(row?.rejections.map((r) => [r.reason, r.count])).toEqual([[RejectReason.Malformed, 1000]]);
      expect(logs.filter((l) => l.message.startsWith('refused a notification'))).toHaveLength(20);
    } finally {
      await listener.stop(1000);
      await store.close();
    }
  });
});
