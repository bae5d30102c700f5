import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanRegistry } from '/work/main/src/catalog/scan.js';
import { openCatalogStore } from '/work/main/src/catalog/store/open.js';
import { OciRegistryClient } from '/work/main/src/registry/client.js';
import { OciRegistrySource } from '/work/main/src/registry/oci-source.js';
import { pushFixture } from '/work/main/test/services/oci-images.js';
import { startRegistry } from '/work/main/test/services/registry.js';

const REPOS = Number(process.argv[2] ?? 100);
const registry = await startRegistry();
const dir = await mkdtemp(join(tmpdir(), 'rev4-'));
try {
  await pushFixture(new OciRegistryClient({ url: registry.url }), { repositories: REPOS, tagsPerRepository: 20 });
  for (const conc of (process.argv[3] ?? '192,32,16').split(',').map(Number)) {
    const store = await openCatalogStore({ kind: 'sqlite', file: join(dir, `c${conc}.sqlite`) });
    for (const m of ['load', 'inventoriedDigests', 'commit'] as const) {
      const orig = (store as any)[m].bind(store);
      (store as any)[m] = async (...a: unknown[]) => { const t = performance.now(); try { return await orig(...a); } finally { console.log(`  ${m} ${Math.round(performance.now() - t)} ms`); } };
    }
    for (const label of ['cold', 'warm', 'warm']) {
      const source = new OciRegistrySource({ client: new OciRegistryClient({ url: registry.url }), concurrency: conc });
      const lr = source.listRepositories.bind(source);
      source.listRepositories = async (s) => { const t = performance.now(); try { return await lr(s); } finally { console.log(`  listRepositories ${Math.round(performance.now() - t)} ms`); } };
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = await scanRegistry(source, store, { concurrency: 24 });
      console.log(`manifest conc ${conc} ${label}: ${Math.round(performance.now() - t0)} ms, ${r.changes.length} changes, node cpu ${JSON.stringify(process.cpuUsage(cpu0))}`);
      source.close();
    }
    await store.close();
  }
} finally {
  await registry.stop();
}
