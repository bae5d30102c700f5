import { OciRegistryClient } from '/work/main/src/registry/client.js';
import { mapWithConcurrency } from '/work/main/src/registry/concurrency.js';
import { pushFixture } from '/work/main/test/services/oci-images.js';
import { startRegistry } from '/work/main/test/services/registry.js';

const REPOS = Number(process.argv[2] ?? 50);
const registry = await startRegistry();
try {
  const client = new OciRegistryClient({ url: registry.url });
  const names = await pushFixture(client, { repositories: REPOS, tagsPerRepository: 20 });
  const work = names.flatMap((r) => Array.from({ length: 20 }, (_, t) => ({ r, t: `v${t}` })));
  for (const conc of [8, 32, 192]) {
    for (const mode of ['GET', 'HEAD', 'GET', 'HEAD']) {
      const c = new OciRegistryClient({ url: registry.url });
      const t0 = performance.now();
      await mapWithConcurrency(work, conc, async ({ r, t }) =>
        mode === 'GET' ? c.getManifest(r, t) : c.headManifest(r, t),
      );
      const ms = performance.now() - t0;
      console.log(`${mode} conc=${conc}: ${work.length} in ${Math.round(ms)} ms = ${(ms / work.length).toFixed(3)} ms/req`);
      c.close();
    }
  }
  const c = new OciRegistryClient({ url: registry.url });
  const t0 = performance.now();
  await mapWithConcurrency(names, 32, async (r) => c.listTags(r));
  console.log(`tags/list: ${names.length} in ${Math.round(performance.now() - t0)} ms`);
  c.close();
} finally {
  await registry.stop();
}
