import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlerNames } from '../../scripts/bundle-lambdas.mjs';
import { validateConfig, type ResolvedConfig } from '../../src/config/load.js';

/** A configuration like examples/organization.yaml, with per-test changes merged in (objects deep, arrays replaced). */
export function testConfig(overrides: Record<string, unknown> = {}): ResolvedConfig {
  const base = {
    resourcePrefix: 'fo-test',
    falcon: { cloud: 'eu-1', credentials: { source: 'environment' } },
    aws: { partition: 'aws', homeRegion: 'eu-central-1', accountType: 'management' },
    organization: {
      id: 'o-a1b2c3d4e5',
      targets: ['ou-ab12-11111111', 'ou-ab12-22222222'],
      excludeAccounts: [],
    },
    tags: { owner: 'security-team' },
    stackSets: {
      maxConcurrentPercentage: 30,
      failureTolerancePercentage: 5,
      regionConcurrency: 'SEQUENTIAL',
    },
    features: { ssmDistributor: { enabled: true, regions: ['eu-central-1', 'eu-west-1'] } },
  };
  return validateConfig(merge(base, overrides), 'test');
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? merge(current, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A temporary lambda directory holding dummy bundles `<name>/index.mjs` (no real build needed). */
export function dummyLambdaDir(...names: string[]): string {
  // Inside a private parent, so a deployer bundle next to it (withDummyDeployer) is private too.
  const dir = join(mkdtempSync(join(tmpdir(), 'falcon-org-lambda-')), 'lambda');
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'index.mjs'), `export const handler = async () => '${name}';\n`);
  }
  return dir;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `falcon-org-${prefix}-`));
}

/**
 * A temporary lambda directory with a dummy bundle for every handler in src/handlers, so the whole
 * app synthesizes without `npm run build` (the content only has to exist and be zipped).
 */
export function dummyBundlesForAllHandlers(): string {
  return withDummyDeployer(dummyLambdaDir(...handlerNames()));
}

/**
 * Puts a dummy EKS deployer bundle where the app looks for it by default: `deployer/index.mjs` next
 * to the lambda directory (dist/lambda → dist/deployer). Returns the lambda directory.
 */
export function withDummyDeployer(lambdaDir: string): string {
  const deployer = join(lambdaDir, '..', 'deployer');
  mkdirSync(deployer, { recursive: true });
  writeFileSync(join(deployer, 'index.mjs'), "console.log('deployer');\n");
  return lambdaDir;
}

/** Every file below a directory, recursively. */
export function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
