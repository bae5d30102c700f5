/*
 * Times `synth` of examples/organization.yaml (goal: under 15 s on the project's 2-core machine).
 * Run: npm run build && npx tsx bench/synth.ts [runs]   (uses the real bundles in dist/lambda)
 * The first run includes loading aws-cdk-lib and the built-in CloudFormation validation, as a
 * fresh `falcon-org synth` process does; later runs show the warm cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const runs = Number(process.argv[2] ?? '3');
const start = performance.now();
const { loadConfigFile } = await import('../src/config/load.js');
const { synthesize } = await import('../src/infra/synth.js');
const loaded = performance.now();
console.log(`load modules: ${((loaded - start) / 1000).toFixed(2)} s`);

for (let i = 1; i <= runs; i++) {
  const outdir = mkdtempSync(join(tmpdir(), 'falcon-org-bench-'));
  const t0 = performance.now();
  const config = await loadConfigFile('examples/organization.yaml');
  const result = synthesize(config, { outdir, lambdaDir: 'dist/lambda' });
  const seconds = (performance.now() - t0) / 1000;
  const total =
    i === 1 ? ` (${((performance.now() - start) / 1000).toFixed(2)} s including module load)` : '';
  console.log(
    `run ${i}: ${seconds.toFixed(2)} s${total}, ${result.stackSetTemplateFiles.length} StackSet templates`,
  );
  rmSync(outdir, { recursive: true, force: true });
}
