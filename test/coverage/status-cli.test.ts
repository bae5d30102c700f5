import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListAccountsForParentCommand } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeFailure } from '../../src/cli/exit.js';
import { run } from '../../src/cli/main.js';
import { runStatus, type StatusOptions, type StatusWiring } from '../../src/cli/status.js';
import { loadConfigFile } from '../../src/config/load.js';
import {
  COVERAGE_SCHEMA_VERSION,
  type CoverageReport,
  type CoverageSummary,
} from '../../src/coverage/model.js';
import { settingsFor } from '../../src/coverage/from-config.js';
import { capture } from '../cli/helpers.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { DEV, EXCLUDED, LOCKED, NOW, PROD, ROOT, buildFixture, type Fixture } from './fixture.js';

const CONFIG = `
resourcePrefix: falcon-org
falcon:
  cloud: us-1
  credentials:
    source: environment
aws:
  partition: aws
  homeRegion: us-east-1
organization:
  id: o-a1b2c3d4e5
  targets: [${ROOT}]
  excludeAccounts: ['${EXCLUDED}']
features:
  ssmDistributor:
    enabled: true
    regions: [us-east-1, us-west-2]
  eksProtection:
    enabled: true
    regions: [us-east-1, us-west-2]
  ecrConnections:
    enabled: true
coverage:
  enabled: true
`;

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** Runs `status` and returns the exit code `run` would give and what was printed. */
async function status(
  opts: Partial<StatusOptions>,
  wiring: StatusWiring,
): Promise<{ code: number; stdout: string; stderr: string; report?: CoverageSummary }> {
  const out = capture();
  try {
    const report = await runStatus({ config: 'unused', ...opts }, out, wiring);
    return { code: 0, stdout: out.stdout.join(''), stderr: out.stderr.join(''), report };
  } catch (error) {
    const { code, message } = describeFailure(error, false);
    return { code, stdout: out.stdout.join(''), stderr: `${out.stderr.join('')}${message}` };
  }
}

describe('falcon-org status', () => {
  let fake: FakeFalconServer;
  let fx: Fixture;
  let dir: string;
  let wiring: StatusWiring;
  let written: Map<string, string>;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
    dir = mkdtempSync(join(tmpdir(), 'falcon-org-status-'));
    writeFileSync(join(dir, 'config.yaml'), CONFIG);
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    fx = await buildFixture(fake);
    written = new Map();
    wiring = {
      loadConfig: () => loadConfigFile(join(dir, 'config.yaml')),
      settingsFor,
      createDeps: () => Promise.resolve({ deps: fx.deps, close: () => Promise.resolve() }),
      openFile: (path) => {
        written.set(path, '');
        return Promise.resolve({
          write: (chunk: string) => {
            written.set(path, (written.get(path) ?? '') + chunk);
            return Promise.resolve();
          },
          close: () => Promise.resolve(),
        });
      },
      color: false,
    };
  });
  afterEach(() => {
    fx.restore();
    for (const c of fake.connections()) fake.deleteConnection(c.id);
    fake.hosts.hosts.clear();
    fake.requests.length = 0;
  });

  it('prints the table, worst accounts first, with totals and reasons; exit 3 when something is not protected', async () => {
    const { code, stdout, stderr } = await status({}, wiring);
    expect(code).toBe(3);
    expect(stderr).toContain('11 of 17 cell(s) are not protected');
    expect(stdout).not.toContain('\u001b[');
    const ssm = stdout.slice(stdout.indexOf('SSM Distributor'), stdout.indexOf('EKS Protection'));
    expect(ssm).toContain('1 protected, 1 partial, 1 unprotected, 1 n/a, 2 unknown');
    const rows = ssm.split('\n').filter((l) => /^\d{12}/.test(l));
    // The unreadable account ranks with the worst (first), then the one with an unprotected cell, then
    // the partial one.
    expect(rows.map((r) => r.slice(0, 12))).toEqual([LOCKED, DEV, PROD]);
    expect(rows[2]).toMatch(/partial 1\/3\s+protected 1\/1/);
    expect(stdout).toContain('Worst first (11 cell(s) not protected):');
    expect(stdout).toMatch(
      /unprotected +222222222222 us-east-1 +ssmDistributor: 1 instance: Not covered: not SSM-managed/,
    );
  });

  it('colours the table only when asked (a terminal)', async () => {
    const { stdout } = await status({}, { ...wiring, color: true });
    expect(stdout).toContain('\u001b[31munprotected');
    expect(stdout).toContain('\u001b[32mprotected');
  });

  it('--json prints one versioned document with every cell', async () => {
    const { code, stdout } = await status({ json: true }, wiring);
    expect(code).toBe(3);
    const doc = JSON.parse(stdout) as CoverageReport;
    expect(doc.schemaVersion).toBe(COVERAGE_SCHEMA_VERSION);
    expect(Object.keys(doc).sort()).toEqual(
      [
        'accounts',
        'allProtected',
        'cells',
        'generatedAt',
        'regions',
        'schemaVersion',
        'scope',
        'totals',
      ].sort(),
    );
    expect(doc.cells).toHaveLength(17);
    expect(doc.scope).toMatchObject({
      targets: [ROOT],
      excludeAccounts: [EXCLUDED],
      homeRegion: 'us-east-1',
    });
    for (const c of doc.cells) {
      expect(Object.keys(c).sort()).toEqual([
        'accountId',
        'counts',
        'feature',
        'items',
        'reasons',
        'region',
        'state',
      ]);
      expect(c.reasons.every((r) => typeof r.code === 'string' && typeof r.text === 'string')).toBe(true);
    }
    const notReporting = doc.cells
      .flatMap((c) => c.items)
      .find((i) => i.reasons[0]?.code === 'installed-not-reporting');
    expect(notReporting?.id).toBe('i-0a000000000000002');
  });

  it('a sensor Falcon has not seen for longer than coverage.hostStaleAfterHours does not protect its instance', async () => {
    // api-1 (prod, us-west-2) was last seen 60 hours before the report.
    const api = [...fake.hosts.hosts.values()].find((h) => h.hostname === 'api-1');
    if (api === undefined) throw new Error('fixture');
    const lastSeen = new Date(NOW.getTime() - 60 * 3_600_000).toISOString();
    api.last_seen = lastSeen;
    const cellOf = async (w: StatusWiring) => {
      const { stdout } = await status({ feature: ['ssmDistributor'], account: [PROD], json: true }, w);
      const report = JSON.parse(stdout) as CoverageReport;
      return report.cells.find((c) => c.region === 'us-west-2');
    };
    const stale = await cellOf(wiring);
    expect(stale?.state).toBe('unprotected');
    expect(stale?.items[0]?.reasons[0]?.code).toBe('sensor-stale');
    expect(stale?.items[0]?.reasons[0]?.text).toContain(
      `sensor not seen for 60 hours (last seen ${lastSeen})`,
    );
    // The threshold comes from the configuration.
    writeFileSync(join(dir, 'config-72h.yaml'), `${CONFIG}  hostStaleAfterHours: 72\n`);
    const relaxed = await cellOf({
      ...wiring,
      loadConfig: () => loadConfigFile(join(dir, 'config-72h.yaml')),
    });
    expect(relaxed?.state).toBe('protected');
  });

  it('--feature and --account narrow the report', async () => {
    const { report } = await status({ feature: ['ecrConnections'], account: [DEV], json: true }, wiring).then(
      (r) => ({ ...r, report: JSON.parse(r.stdout) as CoverageReport }),
    );
    expect(report.scope.features).toEqual(['ecrConnections']);
    expect(report.cells.map((c) => `${c.accountId} ${c.region} ${c.state}`)).toEqual([
      `${DEV} us-east-1 unprotected`,
      `${DEV} us-west-2 protected`,
    ]);
  });

  it('exit 0 when everything in scope is protected', async () => {
    fake.hosts.add({ instance_id: 'i-0a000000000000002', service_provider_account_id: PROD });
    const east = fx.org.accounts.get(PROD)?.regions['us-east-1'];
    if (east === undefined) throw new Error('fixture');
    east.instances = east.instances.filter((i) => i.id !== 'i-0a000000000000003');
    const { code, stdout, report } = await status({ feature: ['ssmDistributor'], account: [PROD] }, wiring);
    expect(code).toBe(0);
    expect(report?.allProtected).toBe(true);
    expect(stdout).toContain('Everything in scope is protected.');
  });

  it('exit 2 on bad input: unknown feature, a feature not enabled, an account not in scope or malformed', async () => {
    expect((await status({ feature: ['nope'] }, wiring)).stderr).toMatch(/--feature nope: expected one of/);
    expect((await status({ feature: ['nope'] }, wiring)).code).toBe(2);
    const notInScope = await status({ account: [EXCLUDED] }, wiring);
    expect(notInScope.code).toBe(2);
    expect(notInScope.stderr).toContain(`--account ${EXCLUDED}: not in scope`);
    expect((await status({ account: ['12345'] }, wiring)).code).toBe(2);
    const out = capture();
    expect(await run(['status'], out)).toBe(2);
    expect(await run(['status', '--config', join(dir, 'missing.yaml')], out)).toBe(2);
  });

  it('exit 1 when the organization itself cannot be read', async () => {
    fx.org.organizations.on(ListAccountsForParentCommand).rejects(new Error('Organizations is unavailable'));
    const { code, stderr } = await status({}, wiring);
    expect(code).toBe(1);
    expect(stderr).toContain('could not read the organization');
  });

  it('end to end through the CLI entry point with the real wiring (SDK clients faked, Falcon stand-in)', async () => {
    const config = CONFIG.replace('  cloud: us-1\n', `  cloud: us-1\n  baseUrl: ${fake.baseUrl}\n`);
    writeFileSync(join(dir, 'e2e.yaml'), config);
    const saved = { id: process.env.FALCON_CLIENT_ID, secret: process.env.FALCON_CLIENT_SECRET };
    process.env.FALCON_CLIENT_ID = fake.credentials.clientId;
    process.env.FALCON_CLIENT_SECRET = fake.credentials.clientSecret;
    const before = fake.tokens().length;
    // The real wiring reads the system clock: set it to the fixture's time (Date only; timers run).
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    try {
      const out = capture();
      const args = [
        'status',
        '--config',
        join(dir, 'e2e.yaml'),
        '--json',
        '--runs-table',
        'falcon-org-eks-runs',
      ];
      expect(await run(args, out)).toBe(3);
      const doc = JSON.parse(out.stdout.join('')) as CoverageReport;
      expect(doc.cells).toHaveLength(17);
      const eks = doc.cells.find(
        (c) => c.feature === 'eksProtection' && c.accountId === PROD && c.region === 'us-east-1',
      );
      expect(eks?.items.map((i) => i.reasons[0]?.code)).toEqual(['nodes-reporting', 'ineligible']);
      expect(out.stderr.join('')).toContain('11 of 17 cell(s) are not protected');
      // Without --runs-table the clusters' run results are not read: unknown, never "not deployed".
      const unread = capture();
      expect(await run(['status', '--config', join(dir, 'e2e.yaml'), '--json'], unread)).toBe(3);
      const unreadDoc = JSON.parse(unread.stdout.join('')) as CoverageReport;
      const unreadEks = unreadDoc.cells.find(
        (c) => c.feature === 'eksProtection' && c.accountId === PROD && c.region === 'us-east-1',
      );
      expect(unreadEks?.state).toBe('unknown');
      expect(unreadEks?.reasons[0]?.text).toContain('--runs-table');
      // A region without clusters has nothing to judge, table or not.
      expect(
        unreadDoc.cells
          .filter((c) => c.feature === 'eksProtection' && c.accountId === PROD)
          .map((c) => [c.region, c.state]),
      ).toEqual([
        ['us-east-1', 'unknown'],
        ['us-west-2', 'not-applicable'],
      ]);
      expect(unreadDoc.cells.filter((c) => c.feature === 'eksProtection').map((c) => c.state)).not.toContain(
        'unprotected',
      );
      // The token was revoked when the command ended.
      const issued = fake.tokens().slice(before);
      expect(issued.length).toBeGreaterThan(0);
      expect(issued.every((t) => t.revoked)).toBe(true);
      // Without credentials: bad input, naming the variables.
      delete process.env.FALCON_CLIENT_SECRET;
      const bad = capture();
      expect(await run(['status', '--config', join(dir, 'e2e.yaml')], bad)).toBe(2);
      expect(bad.stderr.join('')).toContain('FALCON_CLIENT_SECRET');
    } finally {
      vi.useRealTimers();
      restoreEnv('FALCON_CLIENT_ID', saved.id);
      restoreEnv('FALCON_CLIENT_SECRET', saved.secret);
    }
  });

  it('--html writes the self-contained heatmap, escaping what the report carries', async () => {
    const dev = fx.org.accounts.get(DEV);
    if (dev === undefined) throw new Error('fixture');
    const evil = '<img src=x onerror=alert(1)>';
    fx.org.accounts.set(DEV, { ...dev, name: evil });
    const { code } = await status({ html: join(dir, 'report.html') }, wiring);
    expect(code).toBe(3);
    const html = written.get(join(dir, 'report.html')) ?? '';
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toContain(evil);
    // The name travels in the page's data with < and > escaped, and is drawn escaped.
    expect(html).toContain('\\u003cimg src=x onerror=alert(1)\\u003e');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    const grid = JSON.parse(
      /<script type="application\/json" id="coverage-grid">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}',
    ) as {
      cells: number;
    };
    expect(grid.cells).toBe(17);
    expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toBe(CONFIG);
  });

  it('--json and --html together come from one read of the organization', async () => {
    const before = fx.org.sts.commandCalls(AssumeRoleCommand).length;
    const { code, stdout } = await status({ json: true, html: join(dir, 'both.html') }, wiring);
    expect(code).toBe(3);
    const assumed = fx.org.sts.commandCalls(AssumeRoleCommand).length - before;
    const doc = JSON.parse(stdout) as CoverageReport;
    // One AssumeRole per account in the report, not two.
    expect(assumed).toBe(doc.accounts.length);
    expect(doc.cells.every((c) => Array.isArray(c.items))).toBe(true);
    expect(written.get(join(dir, 'both.html'))).toMatch(/^<!doctype html>/);
  });

  it('past a few dozen accounts the terminal shows the totals and the worst rows; --full the whole table', async () => {
    const { renderTerminal } = await import('../../src/coverage/render-terminal.js');
    const { report } = await status({ json: true }, wiring).then((r) => ({
      report: JSON.parse(r.stdout) as CoverageReport,
    }));
    const text = renderTerminal(report, { color: false, tableRows: 1 });
    expect(text).toContain('more account(s), better than those above (--full for the whole table');
    const full = renderTerminal(report, { color: false, tableRows: 1, full: true });
    expect(full).not.toContain('more account(s)');
  });
});
