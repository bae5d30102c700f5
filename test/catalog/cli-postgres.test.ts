import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceFactory } from '../../src/cli/catalog-source.js';
import { startPostgres, type PostgresService } from '../services/postgres.js';
import { runCatalog } from './cli-harness.js';
import { digest, FakeRegistry } from './fake-source.js';

describe('falcon-org catalog with a PostgreSQL store', () => {
  let postgres: PostgresService;
  beforeAll(async () => {
    postgres = await startPostgres('cli');
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  it('scans into, diffs and lists from a postgres:// store, never printing its password', async () => {
    // The throwaway cluster trusts local connections, so any password is accepted: enough to check it never shows.
    const url = postgres.url.replace('postgres@', 'postgres:hunter2-not-shown@');
    const registry = new FakeRegistry('http://fake.test')
      .tag('app', 'v1', digest('a1'))
      .tag('app', 'v2', digest('b2'));
    const factory: SourceFactory = () => Promise.resolve(registry);

    const scan = await runCatalog(['scan', 'http://fake.test', '--store', url], factory);
    registry.tag('app', 'v1', digest('b2'));
    const rescan = await runCatalog(['scan', 'http://fake.test', '--store', url], factory);
    const diff = await runCatalog(['diff', '--store', url, '--json']);
    const inventory = await runCatalog(['inventory', '--store', url, '--json']);

    expect([scan.code, rescan.code, diff.code, inventory.code]).toEqual([0, 0, 0, 0]);
    // v1 moved onto the image v2 tags, leaving the first image without tags: it leaves the catalog.
    expect((JSON.parse(diff.stdout) as { changes: { kind: string }[] }).changes.map((c) => c.kind)).toEqual([
      'image-removed',
      'tag-moved',
    ]);
    expect((JSON.parse(inventory.stdout) as { inventory: unknown[] }).inventory).toHaveLength(2);
    for (const r of [scan, rescan, diff, inventory]) expect(r.stdout + r.stderr).not.toContain('hunter2');
  });

  it('reports an unreachable PostgreSQL store without its password', async () => {
    const result = await runCatalog(['diff', '--store', 'postgres://u:hunter2-not-shown@127.0.0.1:1/none']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /could not prepare the catalog store at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none/,
    );
    expect(result.stderr).not.toContain('hunter2');
  });
});
