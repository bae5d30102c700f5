import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatalogInputError } from '../../src/catalog/errors.js';
import { createRegistrySource, type SourceFactory } from '../../src/cli/catalog-source.js';
import { runCatalog } from './cli-harness.js';
import { digest, FakeRegistry } from './fake-source.js';

const A = digest('a1');
const B = digest('b2');

describe('falcon-org catalog (CLI)', () => {
  let dir: string;
  let store: string;
  let registry: FakeRegistry;
  let factoryCalls: { argument: string; pageSize?: number }[];
  const factory: SourceFactory = (argument, settings) => {
    factoryCalls.push({ argument, ...(settings.pageSize ? { pageSize: settings.pageSize } : {}) });
    return Promise.resolve(registry);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'falcon-org-cli-'));
    store = join(dir, 'catalog.sqlite');
    registry = new FakeRegistry('http://fake.test');
    factoryCalls = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('scan prints a summary with repositories, images, tags, added, removed, moved and newly inventoried', async () => {
    registry.tag('app', 'v1', A).tag('app', 'latest', A).tag('tools', 'v1', B);
    const result = await runCatalog(
      ['scan', 'http://fake.test', '--store', store, '--page-size', '50'],
      factory,
    );
    expect(result.code).toBe(0);
    expect(factoryCalls).toEqual([{ argument: 'http://fake.test', pageSize: 50 }]);
    expect(result.stdout).toMatch(/Scanned http:\/\/fake\.test/);
    expect(result.stdout).toMatch(/repositories\s+2\n/);
    expect(result.stdout).toMatch(/images\s+2\n/);
    expect(result.stdout).toMatch(/tags\s+3\n/);
    expect(result.stdout).toMatch(/added\s+2\n/);
    expect(result.stdout).toMatch(/removed\s+0\n/);
    expect(result.stdout).toMatch(/moved\s+0\n/);
    expect(result.stdout).toMatch(/newly inventoried\s+2\n/);
    expect(registry.closed).toBe(1); // pooled connections released once the scan is over
  });

  it('scan --json prints the run, its changes and the newly inventoried digests', async () => {
    registry.tag('app', 'v1', A);
    await runCatalog(['scan', 'http://fake.test', '--store', store], factory);
    registry.tag('app', 'v1', B);
    const result = await runCatalog(['scan', 'http://fake.test/', '--store', store, '--json'], factory);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as {
      run: { summary: { moved: number; inventoried: number } };
      changes: { kind: string; tag?: string; fromDigest?: string; digest: string }[];
      inventoried: { digest: string }[];
    };
    expect(json.run.summary).toMatchObject({ moved: 1, inventoried: 1 });
    expect(json.changes).toContainEqual({
      kind: 'tag-moved',
      repository: 'app',
      tag: 'v1',
      fromDigest: A,
      digest: B,
    });
    expect(json.inventoried.map((e) => e.digest)).toEqual([B]);
  });

  it('scan applies repeatable --include and --exclude globs', async () => {
    registry.tag('team-a/api', 'v1', A).tag('team-a/cache', 'v1', A).tag('team-b/api', 'v1', B);
    const result = await runCatalog(
      [
        'scan',
        'x',
        '--store',
        store,
        '--include',
        'team-a/*',
        '--include',
        'team-b/*',
        '--exclude',
        '*/cache',
        '--json',
      ],
      factory,
    );
    const json = JSON.parse(result.stdout) as {
      run: { summary: { repositories: number; excluded: number } };
    };
    expect(json.run.summary).toMatchObject({ repositories: 2, excluded: 1 });
    expect([...registry.knownSeen.keys()].sort()).toEqual(['team-a/api', 'team-b/api']);
  });

  it('scan reports failing repositories by name, commits the rest and exits 1', async () => {
    registry.tag('flaky', 'v1', A).tag('fine', 'v1', B);
    registry.failing.add('flaky');
    const result = await runCatalog(['scan', 'x', '--store', store], factory);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/flaky: HTTP 500 listing tags of flaky/);
    expect(result.stderr).toMatch(/could not be scanned \(flaky\)/);
    const inventory = await runCatalog(['inventory', '--store', store, '--json']);
    expect(
      (JSON.parse(inventory.stdout) as { inventory: { digest: string }[] }).inventory.map((e) => e.digest),
    ).toEqual([B]);
  });

  it('rejects bad options with exit code 2', async () => {
    expect((await runCatalog(['scan', 'x', '--store', store, '--concurrency', '0'], factory)).code).toBe(2);
    expect((await runCatalog(['scan', 'x', '--store', store, '--dedupe', 'galaxy'], factory)).code).toBe(2);
    expect((await runCatalog(['scan', 'x', '--store', 'mysql://db/x'], factory)).code).toBe(2);
    expect(factoryCalls).toHaveLength(0);
  });

  it('diff shows the last scan’s changes, as text and JSON', async () => {
    registry.tag('app', 'v1', A).tag('app', 'old', B);
    await runCatalog(['scan', 'x', '--store', store], factory);
    registry.tag('app', 'v1', B).untag('app', 'old').tag('app', 'new', A);
    await runCatalog(['scan', 'x', '--store', store], factory);

    const text = await runCatalog(['diff', '--store', store]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`~ tag   app:v1 ${A} -> ${B}`);
    expect(text.stdout).toContain(`- tag   app:old (was ${B})`);
    expect(text.stdout).toContain(`+ tag   app:new -> ${A}`);

    const json = await runCatalog(['diff', '--registry', 'http://fake.test/', '--store', store, '--json']);
    const parsed = JSON.parse(json.stdout) as { run: { registry: string }; changes: unknown[] };
    expect(parsed.run.registry).toBe('http://fake.test');
    expect(parsed.changes).toHaveLength(3);
  });

  it('diff says so when nothing was scanned yet', async () => {
    const result = await runCatalog(['diff', '--store', store]);
    expect(result.stdout).toMatch(/No scan has been recorded yet/);
  });

  it('inventory lists digests awaiting assessment; --mark-assessed and --mark-assessed-all take them off', async () => {
    registry.tag('app', 'v1', A).tag('tools', 'v1', B);
    await runCatalog(['scan', 'x', '--store', store], factory);

    const listed = await runCatalog(['inventory', '--store', store]);
    expect(listed.stdout).toMatch(/2 images awaiting assessment/);
    expect(listed.stdout).toContain(`${A}  http://fake.test/app tags v1`);

    const marked = await runCatalog(['inventory', '--store', store, '--mark-assessed', A]);
    expect(marked.stdout).toMatch(/Marked 1 inventory entry assessed/);
    const after = await runCatalog(['inventory', '--store', store, '--json']);
    expect(
      (JSON.parse(after.stdout) as { inventory: { digest: string }[] }).inventory.map((e) => e.digest),
    ).toEqual([B]);

    const withAssessed = await runCatalog(['inventory', '--store', store, '--all']);
    expect(withAssessed.stdout).toMatch(/\(assessed \d{4}-/);

    const unknown = await runCatalog(['inventory', '--store', store, '--mark-assessed', digest('ff')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/not in the inventory/);

    await runCatalog(['inventory', '--store', store, '--mark-assessed-all']);
    expect((await runCatalog(['inventory', '--store', store])).stdout).toMatch(/No images await assessment/);
  });

  it('uses FALCON_ORG_STORE when --store is not given', async () => {
    registry.tag('app', 'v1', A);
    const previous = process.env.FALCON_ORG_STORE;
    process.env.FALCON_ORG_STORE = store;
    try {
      await runCatalog(['scan', 'x'], factory);
    } finally {
      if (previous === undefined) delete process.env.FALCON_ORG_STORE;
      else process.env.FALCON_ORG_STORE = previous;
    }
    const listed = await runCatalog(['inventory', '--store', store, '--json']);
    expect((JSON.parse(listed.stdout) as { inventory: unknown[] }).inventory).toHaveLength(1);
  });
});

describe('the CLI source factory', () => {
  it('refuses registry credentials given by halves (one of the two variables set)', async () => {
    const half = createRegistrySource('http://127.0.0.1:1', { env: { FALCON_ORG_REGISTRY_USERNAME: 'u' } });
    await expect(half).rejects.toThrow(CatalogInputError);
    await expect(half).rejects.toThrow(
      'set both FALCON_ORG_REGISTRY_USERNAME and FALCON_ORG_REGISTRY_PASSWORD, or neither',
    );
  });
});
