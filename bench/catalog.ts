/**
 * Catalog benchmark: on a local docker-registry with REPOS × TAGS (default 500 × 20, every tag a
 * distinct image), measures in one run:
 *   1. our cold scan (empty store) against a sequential `skopeo list-tags` + `skopeo inspect` per tag loop;
 *   2. our warm re-scan (nothing changed) against our cold scan;
 * and peak memory. Results are printed and written to bench/results/catalog-<timestamp>.json.
 *
 *   npx tsx bench/catalog.ts [--repos 500] [--tags 20] [--skopeo-repos 25|all] [--concurrency 24]
 *
 * The skopeo loop costs two process spawns per repository plus one per tag; on the full fixture
 * that is 10,500 spawns. By default it runs on a deterministic subset (the first --skopeo-repos
 * repositories by name, all their tags) and the full-fixture figure is extrapolated from the
 * measured cost per repository — labelled as such in the output.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scanRegistry, type ScanResult } from '../src/catalog/scan.js';
import { openCatalogStore, type StoreLocation } from '../src/catalog/store/open.js';
import { createRegistrySource } from '../src/cli/catalog-source.js';
import { OciRegistryClient } from '../src/registry/client.js';
import { digest, FakeRegistry } from '../test/catalog/fake-source.js';
import { pushFixture } from '../test/services/oci-images.js';
import { startPostgres } from '../test/services/postgres.js';
import { startRegistry } from '../test/services/registry.js';
import { mib, sampleMemory } from './memory.js';

const exec = promisify(execFile);

if (process.argv.includes('--help')) {
  console.log(
    'npx tsx bench/catalog.ts [--repos 500] [--tags 20] [--skopeo-repos 25|all] [--concurrency 24]\n' +
      'Smaller runs, e.g. --repos 50 --skopeo-repos 5, take seconds instead of minutes.',
  );
  process.exit(0);
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const REPOS = Number(arg('repos', '500'));
const TAGS = Number(arg('tags', '20'));
const SKOPEO_REPOS = arg('skopeo-repos', '25');
const CONCURRENCY = Number(arg('concurrency', '24'));

const peaks = sampleMemory();

const seconds = (ms: number): number => Math.round(ms) / 1000;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

const work = await mkdtemp(join(tmpdir(), 'falcon-org-bench-'));
const registry = await startRegistry();
try {
  const host = registry.url.replace(/^http:\/\//, '');
  console.log(`registry ${registry.url}: pushing ${REPOS} repositories × ${TAGS} tags …`);
  const push = await timed(() =>
    pushFixture(new OciRegistryClient({ url: registry.url }), {
      repositories: REPOS,
      tagsPerRepository: TAGS,
    }),
  );
  const names = push.value.sort();
  console.log(`fixture pushed in ${seconds(push.ms)} s`);

  const store = await openCatalogStore({ kind: 'sqlite', file: join(work, 'catalog.sqlite') });
  const scan = async (): Promise<ScanResult> => {
    const source = await createRegistrySource(registry.url, { env: {} });
    try {
      return await scanRegistry(source, store, { concurrency: CONCURRENCY });
    } finally {
      source.close?.();
    }
  };

  const cold = await timed(scan);
  const memAfterCold = { peakRssMiB: mib(peaks.peakRss()), peakHeapMiB: mib(peaks.peakHeap()) };
  const warm = await timed(scan);
  await store.close();
  if (warm.value.changes.length !== 0)
    throw new Error('the warm scan found changes; the benchmark is invalid');
  console.log(
    `ours: cold ${seconds(cold.ms)} s (${cold.value.run.summary.tags} tags), warm ${seconds(warm.ms)} s`,
  );

  // Engine + store alone (in-memory source of the same shape, no network): what skipping unchanged
  // rows buys on each store.
  const memory = new FakeRegistry('memory://bench');
  for (const repo of names)
    for (let t = 0; t < TAGS; t += 1) memory.tag(repo, `v${t}`, digest(`${repo}:${t}`));
  const postgres = await startPostgres('bench');
  const engineOnly: Record<string, { coldSeconds: number; warmSeconds: number; coldOverWarm: number }> = {};
  try {
    const locations: [string, StoreLocation][] = [
      ['sqlite', { kind: 'sqlite', file: join(work, 'engine.sqlite') }],
      ['postgres', { kind: 'postgres', url: postgres.url }],
    ];
    for (const [name, location] of locations) {
      const engineStore = await openCatalogStore(location);
      const c = await timed(() => scanRegistry(memory, engineStore, { concurrency: CONCURRENCY }));
      const w = await timed(() => scanRegistry(memory, engineStore, { concurrency: CONCURRENCY }));
      await engineStore.close();
      engineOnly[name] = {
        coldSeconds: seconds(c.ms),
        warmSeconds: seconds(w.ms),
        coldOverWarm: Math.round((c.ms / w.ms) * 10) / 10,
      };
    }
  } finally {
    await postgres.stop();
  }
  console.log(`engine + store only: ${JSON.stringify(engineOnly)}`);

  const subset = SKOPEO_REPOS === 'all' ? names : names.slice(0, Number(SKOPEO_REPOS));
  console.log(`skopeo loop over ${subset.length} repositories (${subset.length * TAGS} tags), sequential …`);
  let spawns = 0;
  const skopeo = await timed(async () => {
    for (const repo of subset) {
      const { stdout } = await exec('skopeo', [
        'list-tags',
        '--tls-verify=false',
        `docker://${host}/${repo}`,
      ]);
      spawns += 1;
      for (const tag of (JSON.parse(stdout) as { Tags: string[] }).Tags) {
        await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/${repo}:${tag}`]);
        spawns += 1;
      }
    }
  });
  const full = subset.length === names.length;
  const skopeoFullMs = full ? skopeo.ms : (skopeo.ms / subset.length) * names.length;
  const usage = process.resourceUsage();
  const result = {
    command: `npx tsx bench/catalog.ts ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    fixture: {
      repositories: REPOS,
      tagsPerRepository: TAGS,
      tags: REPOS * TAGS,
      distinctImages: REPOS * TAGS,
    },
    concurrency: CONCURRENCY,
    store: 'embedded SQLite (temp file)',
    ours: {
      coldSeconds: seconds(cold.ms),
      warmSeconds: seconds(warm.ms),
      coldSummary: cold.value.run.summary,
      warmChanges: warm.value.changes.length,
    },
    skopeo: {
      repositoriesMeasured: subset.length,
      tagsMeasured: subset.length * TAGS,
      spawns,
      measuredSeconds: seconds(skopeo.ms),
      perTagMs: Math.round((skopeo.ms / (subset.length * TAGS)) * 10) / 10,
      fullFixtureSeconds: seconds(skopeoFullMs),
      fullFixtureIs: full ? 'measured' : `EXTRAPOLATED from ${subset.length} of ${names.length} repositories`,
    },
    engineAndStoreOnly: {
      note: 'in-memory source of the same shape (no network): the cost of diffing and committing',
      ...engineOnly,
    },
    ratios: {
      skopeoLoopOverCold: Math.round((skopeoFullMs / cold.ms) * 10) / 10,
      coldOverWarm: Math.round((cold.ms / warm.ms) * 10) / 10,
      goals: { skopeoLoopOverCold: 10, coldOverWarm: 5 },
    },
    memory: {
      ...memAfterCold,
      peakRssMiBWholeRun: mib(peaks.peakRss()),
      maxRssMiBFromResourceUsage: mib(usage.maxRSS * 1024),
    },
  };
  peaks.stop();
  await mkdir('bench/results', { recursive: true });
  const file = join('bench/results', `catalog-${result.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
} finally {
  peaks.stop();
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
