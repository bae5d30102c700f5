import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogStoreError } from '../../src/catalog/errors.js';
import { EventListener, type ListenerLog } from '../../src/catalog/events/listener.js';
import { RejectReason } from '../../src/catalog/events/model.js';
import { formatStatus } from '../../src/catalog/report.js';
import { openCatalogStore } from '../../src/catalog/store/open.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { digest, FakeRegistry } from './fake-source.js';
import { memoryStore } from './helpers.js';
import { eventually, TOKEN } from './listen-harness.js';

/** A store whose `methods` fail while `down` is set: by default as a store that is down. */
function flaky(
  store: CatalogStore,
  state: { down: boolean },
  methods: readonly (keyof CatalogStore)[],
  error: () => Error = () => new CatalogStoreError('connection refused'),
): CatalogStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if ((methods as readonly (string | symbol)[]).includes(key) && state.down)
        return () => Promise.reject(error());
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
      store: flaky(store, state, ['recordRejections']),
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

/** The notification docker-registry posts for a manifest pushed by tag (as test/catalog/listen.integration sees it). */
function pushNotification(id: string, repository: string, tag: string, image: string, at: number): string {
  return JSON.stringify({
    events: [
      {
        id,
        timestamp: new Date(at).toISOString(),
        action: 'push',
        target: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: image,
          size: 500,
          repository,
          url: `http://registry.test/v2/${repository}/manifests/${tag}`,
          tag,
        },
      },
    ],
  });
}

describe('events the listener accepted, when it dies before applying them', () => {
  let dir = '';
  afterEach(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
    dir = '';
  });

  it('are kept in the store before the 202, and the next listener on that store applies them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'falcon-org-inbox-'));
    const location = { kind: 'sqlite' as const, file: join(dir, 'catalog.sqlite') };
    const image = digest('inbox1');
    const registry = new FakeRegistry('http://registry.test').tag('team/app', 'v1', image);
    const options = {
      probe: registry,
      token: TOKEN,
      log: () => undefined,
      now: () => new Date(registry.clock),
    };

    // The first listener accepts the notification and dies before its loop applies anything.
    const first = await openCatalogStore(location);
    const dying = new EventListener({ ...options, store: first });
    const url = await serve(dying);
    expect(await post(url, pushNotification('n-1', 'team/app', 'v1', image, registry.clock))).toBe(202);
    expect(dying.stats().queued).toBe(1);
    // catalog status says so.
    const [row] = await first.status();
    expect(row).toMatchObject({ registry: 'http://registry.test', heldEvents: 1 });
    expect(formatStatus([row])).toContain(
      '  accepted, not applied 1 (in the store; the next `catalog listen` applies them)',
    );
    await first.close();

    // The next one, on the same store: nothing is posted again, yet the image is in the catalog.
    const store = await openCatalogStore(location);
    const logs: ListenerLog[] = [];
    const next = new EventListener({ ...options, store, log: (entry) => logs.push(entry) });
    next.start();
    try {
      await eventually(async () =>
        expect(
          (await store.load('http://registry.test')).state.get('team/app')?.images.get(image)?.tags,
        ).toEqual(['v1']),
      );
      expect(logs.map((l) => l.message)).toContain(
        '1 events accepted before and not applied yet: applying them first',
      );
      // Applied, so released: a third listener has nothing left to apply.
      await eventually(async () => expect(await store.heldEvents('http://registry.test')).toEqual([]));
      expect((await store.status())[0]?.heldEvents).toBeUndefined();
    } finally {
      await next.stop(1000);
      await store.close();
    }
  });

  it('that it applied but could not take out of the inbox are applied again by the next one, as duplicates', async () => {
    const image = digest('inbox3');
    const registry = new FakeRegistry('http://registry.test').tag('team/app', 'v3', image);
    const store = await memoryStore();
    const logs: ListenerLog[] = [];
    const options = { probe: registry, token: TOKEN, now: () => new Date(registry.clock) };
    const first = new EventListener({
      ...options,
      store: flaky(store, { down: true }, ['releaseEvents']),
      log: (entry) => logs.push(entry),
    });
    first.start();
    const next = new EventListener({ ...options, store, log: () => undefined });
    try {
      const url = await serve(first);
      expect(await post(url, pushNotification('n-3', 'team/app', 'v3', image, registry.clock))).toBe(202);
      await eventually(() => expect(first.stats().handled).toBe(1));
      expect(logs.map((l) => l.message)).toContainEqual(
        expect.stringContaining("applied 1 events but could not take them out of the store's inbox"),
      );
      expect((await store.heldEvents('http://registry.test')).map((e) => e.id)).toEqual(['n-3']);
      const catalog = await store.load('http://registry.test');

      next.start();
      await eventually(async () => expect(await store.heldEvents('http://registry.test')).toEqual([]));
      expect(next.stats().handled).toBe(1);
      expect((await store.load('http://registry.test')).state).toEqual(catalog.state);
      const [status] = await store.status();
      expect(status?.eventsSinceScan).toMatchObject({ applied: 1, duplicate: 1 });
    } finally {
      await first.stop(1000);
      await next.stop(1000);
      await store.close();
    }
  });

  it('that fail every time (not the store being down) are given up after 20 tries, refused and out of the inbox', async () => {
    const image = digest('inbox4');
    const registry = new FakeRegistry('http://registry.test').tag('team/app', 'v4', image);
    const store = await memoryStore();
    // Every batch fails the same way, and not because the store is down.
    const failing = flaky(store, { down: true }, ['commitEvents'], () => new Error('the plan kept changing'));
    const logs: ListenerLog[] = [];
    const listener = new EventListener({
      probe: registry,
      store: failing,
      token: TOKEN,
      log: (entry) => logs.push(entry),
      retry: { initialMs: 1, maxMs: 2 },
      now: () => new Date(registry.clock),
    });
    listener.start();
    try {
      const url = await serve(listener);
      expect(await post(url, pushNotification('n-4', 'team/app', 'v4', image, registry.clock))).toBe(202);
      await eventually(() => expect(listener.stats()).toMatchObject({ queued: 0, rejected: 1, handled: 0 }));
      expect(logs.filter((l) => l.message.startsWith('could not apply 1 events'))).toHaveLength(19);
      expect(logs.map((l) => l.message)).toContainEqual(
        expect.stringContaining(
          'gave up on 1 events after 20 tries (the next `catalog scan` catches what they changed)',
        ),
      );
      expect(await store.heldEvents('http://registry.test')).toEqual([]);
      await eventually(async () =>
        expect((await store.status())[0]?.rejections).toEqual([
          expect.objectContaining({ reason: RejectReason.GaveUp, count: 1 }),
        ]),
      );
      expect(listener.stats().storeUp).toBe(true);
    } finally {
      await listener.stop(1000);
      await store.close();
    }
  });

  it('answers 503 while the store cannot keep them, and 202 again once it can', async () => {
    const image = digest('inbox2');
    const registry = new FakeRegistry('http://registry.test').tag('team/app', 'v2', image);
    const state = { down: true };
    const store = await memoryStore();
    const listener = new EventListener({
      probe: registry,
      store: flaky(store, state, ['holdEvents', 'heldEvents']),
      token: TOKEN,
      log: () => undefined,
      retry: { initialMs: 10, maxMs: 20 },
      now: () => new Date(registry.clock),
    });
    listener.start();
    try {
      const url = await serve(listener);
      const body = pushNotification('n-2', 'team/app', 'v2', image, registry.clock);
      expect(await post(url, body)).toBe(503);
      expect(listener.stats()).toMatchObject({ queued: 0, received: 0, storeUp: false });
      state.down = false;
      await eventually(() => expect(listener.stats().storeUp).toBe(true), 5000);
      expect(await post(url, body)).toBe(202);
      await eventually(async () =>
        expect((await store.load('http://registry.test')).state.get('team/app')?.images.has(image)).toBe(
          true,
        ),
      );
    } finally {
      await listener.stop(1000);
      await store.close();
    }
  });
});
