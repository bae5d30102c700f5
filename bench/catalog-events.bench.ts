/**
 * Catalog events benchmark: a real docker-registry with REPOS × TAGS (default 500 × 20, every tag a
 * distinct image) whose notifications point at `catalog listen`'s endpoint. After a cold scan into
 * two identical stores, CHANGED % of the tags change (new tags of new images, tags moved onto another
 * image, images deleted). Measured in one run:
 *   (a) a warm re-scan of one store, which picks the change up: its wall time is the soonest a
 *       change is catalogued by scanning (a scan started the moment it was pushed);
 *   (b) the same change applied to the other store from the registry's own notifications: each
 *       change is pushed once the previous one is catalogued, and the longest time from a push
 *       to the catalog showing it is reported;
 * both with the requests sent to the registry; then the two stores are compared.
 *
 *   npx tsx bench/catalog-events.bench.ts [--repos 500] [--tags 20] [--changed-percent 1]
 *
 * Ends with one JSON line; the full result is written to bench/results/catalog-events-<time>.json.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventListener } from '../src/catalog/events/listener.js';
import { scanRegistry } from '../src/catalog/scan.js';
import { openCatalogStore } from '../src/catalog/store/open.js';
import type { CatalogStore } from '../src/catalog/store/store.js';
import { OciRegistryClient } from '../src/registry/client.js';
import { createRegistrySource } from '../src/registry/registry-source.js';
import { nodeTransport, type Transport } from '../src/registry/transport.js';
import { startEndpoint, TOKEN } from '../test/catalog/listen-harness.js';
import { buildImage, imageConfig, pushFixture, randomLayer, tagImage } from '../test/services/oci-images.js';
import { startRegistry } from '../test/services/registry.js';

if (process.argv.includes('--help')) {
  console.log('npx tsx bench/catalog-events.bench.ts [--repos 500] [--tags 20] [--changed-percent 1]');
  process.exit(0);
}
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] ?? fallback) : fallback;
}
const REPOS = Number(arg('repos', '500'));
const TAGS = Number(arg('tags', '20'));
const CHANGED_PERCENT = Number(arg('changed-percent', '1'));
const seconds = (ms: number): number => Math.round(ms) / 1000;
const ratio = (a: number, b: number): number => Math.round((a / Math.max(b, 1e-9)) * 10) / 10;

/** A transport that counts what it sends. */
function counting(inner: Transport): Transport & { count: number } {
  const t = Object.assign(
    (req: Parameters<Transport>[0]) => {
      t.count += 1;
      return inner(req);
    },
    { count: 0 },
  );
  return t;
}

/** The whole catalog of a registry in a store, as sorted lines (state and inventory). */
async function contents(store: CatalogStore, registry: string): Promise<string[]> {
  const { state } = await store.load(registry);
  const lines: string[] = [];
  for (const [repository, repo] of state) {
    for (const image of repo.images.values()) lines.push(`${repository} ${JSON.stringify(image)}`);
  }
  for (const e of await store.inventory({ registry, includeAssessed: true }))
    lines.push(`inventory ${e.digest}`);
  return lines.sort();
}

const work = await mkdtemp(join(tmpdir(), 'falcon-org-bench-events-'));
const endpoint = await startEndpoint();
const registry = await startRegistry({ notify: { url: endpoint.url, token: TOKEN } });
try {
  const client = new OciRegistryClient({ url: registry.url });
  // While the fixture is pushed, its notifications are answered and dropped.
  endpoint.drop(() => true);
  endpoint.setHandler((_req, res) => res.writeHead(202).end());
  console.log(`registry ${registry.url}: pushing ${REPOS} repositories × ${TAGS} tags …`);
  const names = (await pushFixture(client, { repositories: REPOS, tagsPerRepository: TAGS })).sort();
  for (let quiet = 0, seen = -1; quiet < 3; await sleep(500)) {
    quiet = endpoint.bodies.length === seen ? quiet + 1 : 0;
    seen = endpoint.bodies.length;
  }
  console.log(`fixture pushed; ${endpoint.bodies.length} notifications of it drained`);

  // Both stores start from the same cold scan.
  const scanFile = join(work, 'rescan.sqlite');
  const eventsFile = join(work, 'events.sqlite');
  {
    const store = await openCatalogStore({ kind: 'sqlite', file: scanFile });
    const source = createRegistrySource(registry.url);
    await scanRegistry(source, store);
    source.close?.();
    await store.close();
    await copyFile(scanFile, eventsFile);
  }
  const rescanStore = await openCatalogStore({ kind: 'sqlite', file: scanFile });
  const eventsStore = await openCatalogStore({ kind: 'sqlite', file: eventsFile });

  // (b)'s listener, with its registry lookups counted.
  const probeTransport = counting(nodeTransport());
  const probe = createRegistrySource(registry.url, { client: { transport: probeTransport } });
  const listener = new EventListener({ probe, store: eventsStore, token: TOKEN, log: () => undefined });
  listener.start();
  endpoint.drop(undefined);
  endpoint.setHandler(listener.handle);

  // The change: a third new tags of new images, a third tags moved onto another image of their
  // repository (the image they left loses its last tag), a third images deleted.
  const changed = Math.max(3, Math.round((REPOS * TAGS * CHANGED_PERCENT) / 100));
  const third = Math.floor(changed / 3);
  const layer = randomLayer(512);
  const config = imageConfig('linux/amd64', [layer]);
  const step = Math.max(1, Math.floor(names.length / changed));
  const pick = (i: number): string => names[(i * step) % names.length] ?? 'repo-0000';
  // The new images' blobs go up first: uploading blobs changes no catalog (and is not timed).
  for (let i = 0; i < third; i++) {
    for (const blob of [config, layer]) {
      if (!(await client.hasBlob(pick(i), blob.digest))) await client.uploadBlob(pick(i), blob.bytes);
    }
  }
  await sleep(1000);
  // Each change is pushed once the previous one is catalogued, so its time from push to catalogued
  // is measured alone (the listener's `handled` counts events committed to the store).
  let expectedEvents = 0;
  const latencies: number[] = [];
  const catalogued = async (): Promise<void> => {
    const pushed = performance.now();
    while (listener.stats().handled < expectedEvents || listener.stats().queued > 0) await sleep(1);
    latencies.push(performance.now() - pushed);
  };
  const pushedAt = performance.now();
  for (let i = 0; i < changed; i++) {
    const repository = pick(i);
    if (i < third) {
      // A new image under a new tag (its blobs are the fixture's, already in every repository).
      const image = buildImage({
        config,
        layers: 0,
        sharedLayers: [layer],
        annotations: { 'bench.new': `${i}` },
      });
      await client.putManifest(repository, `new-${i}`, image.bytes, image.mediaType);
      expectedEvents += 1;
    } else if (i < 2 * third) {
      const target = await client.headManifest(repository, `v${TAGS - 1}`);
      if (!target) throw new Error(`${repository}:v${TAGS - 1} is missing`);
      await tagImage(client, repository, target.digest, 'v0');
      expectedEvents += 1;
    } else {
      const target = await client.headManifest(repository, 'v1');
      if (!target) throw new Error(`${repository}:v1 is missing`);
      await client.deleteManifest(repository, target.digest);
      expectedEvents += 2; // the image, then its one tag
    }
    await catalogued();
  }
  const caughtUp = performance.now();
  latencies.sort((a, b) => a - b);
  // (b): the longest any change waited between its push and the catalog showing it.
  const eventSeconds = seconds(latencies[latencies.length - 1] ?? 0);
  console.log(`${changed} tags changed; ${expectedEvents} notifications applied`);
  const eventRequests = probeTransport.count;
  await listener.stop();
  probe.close?.();

  // (a) a warm re-scan.
  const scanTransport = counting(nodeTransport());
  const source = createRegistrySource(registry.url, { client: { transport: scanTransport } });
  const rescanStart = performance.now();
  const rescan = await scanRegistry(source, rescanStore);
  const rescanSeconds = seconds(performance.now() - rescanStart);
  source.close?.();
  const rescanRequests = scanTransport.count;

  const storesEqual =
    JSON.stringify(await contents(rescanStore, registry.url)) ===
    JSON.stringify(await contents(eventsStore, registry.url));
  const status = (await eventsStore.status()).find((s) => s.registry === registry.url);
  await rescanStore.close();
  await eventsStore.close();

  const line = {
    tags: REPOS * TAGS,
    changed,
    rescanSeconds,
    rescanRequests,
    eventSeconds,
    eventRequests,
    ratioTime: ratio(rescanSeconds, eventSeconds),
    ratioRequests: ratio(rescanRequests, eventRequests),
    storesEqual,
  };
  const result = {
    command: `npx tsx bench/catalog-events.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    fixture: { repositories: REPOS, tagsPerRepository: TAGS },
    change: {
      newTags: third,
      movedTags: third,
      deletedImages: changed - 2 * third,
      notifications: expectedEvents,
      firstPushToLastCataloguedSeconds: seconds(caughtUp - pushedAt),
      pushToCataloguedMs: {
        median: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
        max: Math.round(latencies[latencies.length - 1] ?? 0),
      },
    },
    rescan: { seconds: rescanSeconds, requests: rescanRequests, changes: rescan.changes.length },
    events: {
      seconds: eventSeconds,
      requests: eventRequests,
      outcomes: status?.eventsSinceScan,
      listener: listener.stats(),
    },
    goals: { ratioTime: 20, ratioRequests: 20 },
    ...line,
  };
  await mkdir('bench/results', { recursive: true });
  const file = join('bench/results', `catalog-events-${result.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
  console.log(JSON.stringify(line));
} finally {
  await registry.stop();
  await endpoint.close();
  await rm(work, { recursive: true, force: true });
}
