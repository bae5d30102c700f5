import { DescribeOrganizationCommand } from '@aws-sdk/client-organizations';
import { COVERAGE_SCHEMA_VERSION } from '../../src/coverage/model.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildCoverageReport } from '../../src/coverage/build.js';
import { writeHtmlReport } from '../../src/coverage/html.js';
import { renderTerminal } from '../../src/coverage/render-terminal.js';
import { eksNodeRepairs } from '../../src/coverage/eks-repair.js';
import { CoverageInputError } from '../../src/coverage/errors.js';
import { checkStoredReport } from '../../src/coverage/stored-report.js';
import type { CoverageCell, CoverageFeature, CoverageReport } from '../../src/coverage/model.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { falconTime } from '../fakes/falcon/hosts.js';
import {
  DEV,
  EXCLUDED,
  LOCKED,
  NOW,
  OU,
  PROD,
  PROD_EKS_FALCON_ID,
  SUSPENDED,
  buildFixture,
  type Fixture,
} from './fixture.js';

function cell(
  report: CoverageReport,
  feature: CoverageFeature,
  account: string,
  region: string,
): CoverageCell {
  const found = report.cells.find(
    (c) => c.feature === feature && c.accountId === account && c.region === region,
  );
  if (found === undefined) throw new Error(`no ${feature} cell for ${account} ${region}`);
  return found;
}

function itemReason(c: CoverageCell, id: string): string | undefined {
  return c.items.find((i) => i.id === id)?.reasons[0]?.code;
}

describe('buildCoverageReport over a small organization with every state', () => {
  let fake: FakeFalconServer;
  let fx: Fixture;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    fx = await buildFixture(fake);
  });
  afterEach(() => {
    fx.restore();
    for (const c of fake.connections()) fake.deleteConnection(c.id);
    fake.hosts.hosts.clear();
    fake.clearInjections();
    fake.requests.length = 0;
  });

  it('judges every account × region × feature cell, with the reasons', async () => {
    const report = await buildCoverageReport(fx.deps, fx.options);

    expect(report.schemaVersion).toBe(COVERAGE_SCHEMA_VERSION);
    expect(report.generatedAt).toBe('2026-11-29T12:00:00.000Z');
    expect(report.accounts.map((a) => [a.id, a.readable])).toEqual([
      [PROD, true],
      [DEV, true],
      [LOCKED, false],
    ]);
    expect(report.accounts.map((a) => a.id)).not.toContain(SUSPENDED);
    expect(report.accounts.map((a) => a.id)).not.toContain(EXCLUDED);

    const states = report.cells.map((c) => `${c.feature} ${c.accountId} ${c.region} ${c.state}`);
    expect(states).toEqual([
      `ssmDistributor ${PROD} us-east-1 partial`,
      `ssmDistributor ${PROD} us-west-2 protected`,
      `ssmDistributor ${DEV} us-east-1 unprotected`,
      `ssmDistributor ${DEV} us-west-2 not-applicable`,
      `ssmDistributor ${LOCKED} us-east-1 unknown`,
      `ssmDistributor ${LOCKED} us-west-2 unknown`,
      `eksProtection ${PROD} us-east-1 partial`,
      `eksProtection ${PROD} us-west-2 not-applicable`,
      `eksProtection ${DEV} us-east-1 unprotected`,
      `eksProtection ${DEV} us-west-2 not-applicable`,
      `eksProtection ${LOCKED} us-east-1 unknown`,
      `eksProtection ${LOCKED} us-west-2 unknown`,
      `ecrConnections ${PROD} us-east-1 protected`,
      `ecrConnections ${PROD} us-west-2 unprotected`,
      `ecrConnections ${DEV} us-east-1 unprotected`,
      `ecrConnections ${DEV} us-west-2 protected`,
      `ecrConnections ${LOCKED} us-east-1 unknown`,
    ]);
    expect(report.allProtected).toBe(false);
    expect(report.regions).toEqual(['us-east-1', 'us-west-2']);
    // Instances are read once per region even though SSM and EKS both use them.
    const describes = fx.org.calls.filter((c) => c.account === PROD && c.command === 'DescribeInstances');
    expect(describes.map((c) => c.region).sort()).toEqual(['us-east-1', 'us-west-2']);
  });

  it('SSM: Falcon is the truth; installed-but-not-reporting and not SSM-managed are told apart', async () => {
    const report = await buildCoverageReport(fx.deps, fx.options);
    const east = cell(report, 'ssmDistributor', PROD, 'us-east-1');
    expect(east.counts).toEqual({
      total: 3,
      protected: 1,
      partial: 0,
      unprotected: 2,
      notApplicable: 0,
      unknown: 0,
    });
    expect(itemReason(east, 'i-0a000000000000001')).toBe('reporting');
    // COMPLIANT but Falcon does not see it in this account (a host with that ID in another account does not count).
    expect(itemReason(east, 'i-0a000000000000002')).toBe('installed-not-reporting');
    expect(east.items.find((i) => i.id === 'i-0a000000000000002')?.reasons[0]?.text).toMatch(
      /^Installed, not reporting/,
    );
    expect(itemReason(east, 'i-0a000000000000003')).toBe('not-ssm-managed');
    expect(east.items.find((i) => i.id === 'i-0a000000000000003')?.reasons[0]?.text).toMatch(
      /^Not covered: not SSM-managed/,
    );
    expect(east.items.find((i) => i.id === 'i-0a000000000000001')?.facts).toMatchObject({
      ssmManaged: true,
      associationCompliance: 'COMPLIANT',
      lastSeen: falconTime(NOW.getTime()),
    });
    expect(east.reasons.map((r) => r.text)).toEqual([
      '1 instance: Installed, not reporting: the association succeeded but Falcon does not see this instance',
      '1 instance: Not covered: not SSM-managed',
    ]);
    const dev = cell(report, 'ssmDistributor', DEV, 'us-east-1');
    expect(dev.reasons.map((r) => r.code)).toEqual(['not-ssm-managed']);
    expect(cell(report, 'ssmDistributor', DEV, 'us-west-2').reasons[0]?.code).toBe('no-instances');
  });

  it('ECR: connection state and ownership per region', async () => {
    const report = await buildCoverageReport(fx.deps, fx.options);
    const owned = cell(report, 'ecrConnections', PROD, 'us-east-1');
    expect(owned.items[0]).toMatchObject({
      id: `https://${PROD}.dkr.ecr.us-east-1.amazonaws.com`,
      state: 'protected',
      facts: {
        connectionId: fx.connections.prodEast,
        connectionState: 'enabled',
        ownedByThisDeployment: true,
      },
    });
    const paused = cell(report, 'ecrConnections', PROD, 'us-west-2');
    expect(paused.items[0]?.reasons[0]).toMatchObject({ code: 'connection-state' });
    expect(paused.items[0]?.reasons[0]?.text).toContain('"paused"');
    expect(cell(report, 'ecrConnections', DEV, 'us-east-1').items[0]?.reasons[0]?.code).toBe('no-connection');
    const theirs = cell(report, 'ecrConnections', DEV, 'us-west-2');
    expect(theirs.state).toBe('protected');
    expect(theirs.items[0]?.facts.ownedByThisDeployment).toBe(false);
    expect(theirs.reasons.map((r) => r.code)).toContain('connection-not-owned');
  });

  it('EKS: verdict, last run and nodes reporting per cluster; no item = not deployed', async () => {
    const report = await buildCoverageReport(fx.deps, fx.options);
    const east = cell(report, 'eksProtection', PROD, 'us-east-1');
    expect(east.items.map((i) => [i.id, i.state, i.reasons[0]?.code])).toEqual([
      ['prod-eks', 'protected', 'nodes-reporting'],
      ['legacy', 'unprotected', 'ineligible'],
    ]);
    expect(east.items[1]?.reasons[0]?.text).toContain('config-map-auth');
    expect(east.items[0]?.facts).toMatchObject({
      lastRunOutcome: 'protected',
      verdict: 'eligible',
      nodesReporting: 1,
    });
    expect(cell(report, 'eksProtection', DEV, 'us-east-1').items[0]?.reasons[0]?.code).toBe('not-deployed');
  });

  it("EKS: a cluster whose EC2 nodes only partly report is partial, and the next sweep's list names it", async () => {
    const east = fx.org.accounts.get(PROD)?.regions['us-east-1'];
    if (east === undefined) throw new Error('fixture');
    // A second node of prod-eks (tagged by its node group) that Falcon has never seen, and a third
    // started a minute ago, which is given time to report.
    east.instances.push(
      { id: 'i-0a0000000000000e2', eksCluster: 'prod-eks', launchTime: new Date(NOW.getTime() - 3_600_000) },
      { id: 'i-0a0000000000000e3', eksCluster: 'prod-eks', launchTime: new Date(NOW.getTime() - 60_000) },
    );
    const report = await buildCoverageReport(fx.deps, { ...fx.options, accounts: [PROD] });
    const c = cell(report, 'eksProtection', PROD, 'us-east-1');
    expect(c.state).toBe('partial');
    expect(c.items[0]).toMatchObject({
      id: 'prod-eks',
      state: 'partial',
      facts: {
        ec2Nodes: 3,
        nodesReporting: 1,
        nodesNotReporting: 1,
        nodesStarting: 1,
        falconClusterId: PROD_EKS_FALCON_ID,
      },
    });
    expect(c.items[0]?.reasons[0]?.text).toContain(
      '1 of 2 EC2 nodes report to Falcon; not reporting: i-0a0000000000000e2',
    );
    expect(eksNodeRepairs(report)).toEqual([
      {
        accountId: PROD,
        region: 'us-east-1',
        cluster: 'prod-eks',
        reporting: 'nodes-partly-reporting',
        nodes: 3,
        nodesReporting: 1,
        reason: c.items[0]?.reasons[0]?.text,
      },
    ]);
    // The stored copy (latest.json) with a partial cluster is still a report `status --latest` shows.
    expect(checkStoredReport(JSON.parse(JSON.stringify(report))).problems).toEqual([]);
  });

  it('an unreadable account is a row of unknown cells with the reason, never a failed report', async () => {
    const report = await buildCoverageReport(fx.deps, fx.options);
    const locked = report.cells.filter((c) => c.accountId === LOCKED);
    expect(locked).toHaveLength(5);
    for (const c of locked) {
      expect(c.state).toBe('unknown');
      expect(c.reasons[0]?.code).toBe('account-unreadable');
      expect(c.reasons[0]?.text).toContain('sts:AssumeRole');
    }
    expect(report.accounts.find((a) => a.id === LOCKED)?.reason?.code).toBe('account-unreadable');
    expect(fx.org.memberCalls(LOCKED)).toBe(0);
  });

  describe('the management account', () => {
    it('in scope and reached (root stack in it, root targeted): read like every other account', async () => {
      fx.org.managementAccountId = PROD;
      const report = await buildCoverageReport(fx.deps, { ...fx.options, managementAccount: 'root-stack' });
      const prod = report.accounts.find((a) => a.id === PROD);
      expect(prod).toMatchObject({ readable: true });
      expect(prod?.excluded).toBeUndefined();
      expect(cell(report, 'ssmDistributor', PROD, 'us-west-2').state).toBe('protected');
    });

    it('excluded by organization.excludeAccounts: listed as excluded with the reason, no cells, never absent', async () => {
      fx.org.managementAccountId = EXCLUDED;
      const report = await buildCoverageReport(fx.deps, { ...fx.options, managementAccount: 'root-stack' });
      const listed = report.accounts.find((a) => a.id === EXCLUDED);
      expect(listed).toMatchObject({
        id: EXCLUDED,
        name: 'sandbox',
        parent: 'r-ab12',
        readable: false,
        excluded: true,
        reason: { code: 'account-excluded' },
      });
      expect(listed?.reason?.text).toContain('organization.excludeAccounts');
      expect(report.cells.some((c) => c.accountId === EXCLUDED)).toBe(false);
      expect(fx.org.memberCalls(EXCLUDED)).toBe(0);
      // Sorted with the others, by ID; other excluded accounts stay out.
      expect(report.accounts.map((a) => a.id)).toEqual([PROD, DEV, LOCKED, EXCLUDED].sort());
      // The terminal and the heatmap say so too (it has no cells, so no row).
      expect(renderTerminal(report, { color: false })).toContain(
        `Not covered: ${EXCLUDED} (sandbox): The organization's management account, excluded by organization.excludeAccounts`,
      );
      const page: string[] = [];
      await writeHtmlReport(report, undefined, (chunk) => {
        page.push(chunk);
      });
      expect(page.join('')).toContain(`<p class="excluded">Not covered: <code>${EXCLUDED}</code> sandbox: `);
      expect(page.join('')).toContain('4 account(s), 1 unreadable');
    });

    it('not under the targeted OUs: listed as excluded, named from Organizations, with how to include it', async () => {
      fx.org.managementAccountId = PROD;
      const report = await buildCoverageReport(fx.deps, {
        ...fx.options,
        scope: { ...fx.options.scope, targets: [OU] },
        managementAccount: 'not-targeted',
      });
      const listed = report.accounts.find((a) => a.id === PROD);
      expect(listed).toMatchObject({ name: 'prod', readable: false, excluded: true });
      expect(listed?.reason?.code).toBe('account-excluded');
      expect(listed?.reason?.text).toContain('not under organization.targets');
      expect(listed?.reason?.text).toContain('Target the root ID');
      expect(report.cells.some((c) => c.accountId === PROD)).toBe(false);
      expect(fx.org.memberCalls(PROD)).toBe(0);
      // --account naming another account leaves it out.
      const narrowed = await buildCoverageReport(fx.deps, {
        ...fx.options,
        scope: { ...fx.options.scope, targets: [OU] },
        accounts: [DEV],
      });
      expect(narrowed.accounts.map((a) => a.id)).toEqual([DEV]);
    });

    it("in scope but out of a delegated administrator's reach: unknown cells saying why, no role assumed", async () => {
      fx.org.managementAccountId = PROD;
      const report = await buildCoverageReport(fx.deps, {
        ...fx.options,
        managementAccount: 'delegated-admin',
      });
      const prod = report.cells.filter((c) => c.accountId === PROD);
      expect(prod.length).toBeGreaterThan(0);
      for (const c of prod) {
        expect(c.state).toBe('unknown');
        expect(c.reasons[0]?.code).toBe('management-account-unreached');
      }
      expect(report.accounts.find((a) => a.id === PROD)?.reason?.text).toContain('delegated administrator');
      expect(report.allProtected).toBe(false);
      expect(fx.org.memberCalls(PROD)).toBe(0);
    });

    it('a management account outside the organization listing (Organizations refuses to describe it) does not fail the report', async () => {
      fx.org.organizations.on(DescribeOrganizationCommand).rejects(new Error('AccessDenied'));
      const report = await buildCoverageReport(fx.deps, fx.options);
      expect(report.accounts.map((a) => a.id)).toEqual([PROD, DEV, LOCKED].sort());
    });
  });

  it('a region whose service refuses is unknown there only', async () => {
    const west = fx.org.accounts.get(PROD)?.regions['us-west-2'];
    if (west === undefined) throw new Error('fixture');
    west.deny = 'ec2';
    const report = await buildCoverageReport(fx.deps, fx.options);
    const c = cell(report, 'ssmDistributor', PROD, 'us-west-2');
    expect(c.state).toBe('unknown');
    expect(c.reasons[0]?.code).toBe('region-unreadable');
    expect(c.reasons[0]?.text).toContain('DescribeInstances');
    expect(cell(report, 'ssmDistributor', PROD, 'us-east-1').state).toBe('partial');
    expect(cell(report, 'eksProtection', PROD, 'us-west-2').state).toBe('not-applicable');
  });

  it('a throttled region is retried within the account budget and judged, not reported unknown', async () => {
    const east = fx.org.accounts.get(PROD)?.regions['us-east-1'];
    if (east === undefined) throw new Error('fixture');
    east.throttle = 3;
    const report = await buildCoverageReport(fx.deps, { ...fx.options, accounts: [PROD] });
    expect(fx.org.throttled).toBe(3);
    expect(cell(report, 'ssmDistributor', PROD, 'us-east-1').state).toBe('partial');
    expect(cell(report, 'eksProtection', PROD, 'us-east-1').state).toBe('partial');
  });

  it('Falcon unreachable for hosts: instances Falcon would confirm become unknown, not unprotected', async () => {
    fake.serverError('hosts.scroll', 50, 500, 'internal');
    const { FalconHostsAdapter } = await import('../../src/coverage/falcon-ports.js');
    const { FalconHosts } = await import('../../src/falcon/index.js');
    const deps = { ...fx.deps, falconHosts: new FalconHostsAdapter(new FalconHosts(fx.falcon.api)) };
    const report = await buildCoverageReport(deps, fx.options);
    fake.clearInjections();
    const east = cell(report, 'ssmDistributor', PROD, 'us-east-1');
    // Even the unmanaged instance is unknown: Falcon may see a sensor installed another way.
    expect(east.items.map((i) => i.state)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(east.state).toBe('unknown');
    expect(east.items[0]?.reasons[0]?.code).toBe('falcon-unreadable');
    // ECR does not depend on hosts.
    expect(cell(report, 'ecrConnections', PROD, 'us-east-1').state).toBe('protected');
  });

  it('--account limits the report; an account not in scope is bad input', async () => {
    const report = await buildCoverageReport(fx.deps, { ...fx.options, accounts: [DEV] });
    expect(new Set(report.cells.map((c) => c.accountId))).toEqual(new Set([DEV]));
    expect(report.scope.accountFilter).toEqual([DEV]);
    await expect(buildCoverageReport(fx.deps, { ...fx.options, accounts: [SUSPENDED] })).rejects.toThrow(
      CoverageInputError,
    );
  });

  it('fixing the causes turns the cells protected (lifecycle: report, fix, report again)', async () => {
    const first = await buildCoverageReport(fx.deps, { ...fx.options, accounts: [PROD] });
    expect(cell(first, 'ssmDistributor', PROD, 'us-east-1').state).toBe('partial');
    // The sensor starts reporting, the unmanaged instance is terminated, the registry is resumed.
    fake.hosts.add({
      instance_id: 'i-0a000000000000002',
      service_provider_account_id: PROD,
      hostname: 'web-2',
    });
    const east = fx.org.accounts.get(PROD)?.regions['us-east-1'];
    if (east === undefined) throw new Error('fixture');
    east.instances = east.instances.filter((i) => i.id !== 'i-0a000000000000003');
    east.clusters = ['prod-eks'];
    const paused = fake.connection(fx.connections.prodWest);
    if (paused === undefined) throw new Error('fixture');
    paused.state = 'enabled';
    const second = await buildCoverageReport(fx.deps, { ...fx.options, accounts: [PROD] });
    expect(second.cells.map((c) => c.state).filter((s) => s !== 'not-applicable')).toEqual(
      Array(5).fill('protected'),
    );
    expect(second.allProtected).toBe(true);
  });

  it('accounts not reached before the signal aborts are unknown, not missing', async () => {
    const controller = new AbortController();
    controller.abort();
    const report = await buildCoverageReport(fx.deps, { ...fx.options, signal: controller.signal });
    expect(report.accounts.map((a) => a.id)).toEqual([PROD, DEV, LOCKED]);
    expect(report.cells.every((c) => c.state === 'unknown')).toBe(true);
    expect(report.cells[0]?.reasons[0]?.text).toContain('stopped before this account was reached');
    expect(fx.org.calls).toHaveLength(0);
  });

  it('an account whose enabled regions cannot be listed gets one unknown ECR cell in the home region', async () => {
    const { ListRegionsCommand } = await import('@aws-sdk/client-account');
    fx.org.account.on(ListRegionsCommand).rejects(new Error('account:ListRegions denied by an SCP'));
    const report = await buildCoverageReport(fx.deps, { ...fx.options, accounts: [PROD] });
    const ecr = report.cells.filter((c) => c.feature === 'ecrConnections');
    expect(ecr.map((c) => [c.region, c.state])).toEqual([['us-east-1', 'unknown']]);
    expect(ecr[0]?.reasons[0]?.text).toContain('denied by an SCP');
    expect(cell(report, 'ssmDistributor', PROD, 'us-west-2').state).toBe('protected');
  });

  it('totals count cells per feature and state', async () => {
    const report = await buildCoverageReport(fx.deps, fx.options);
    expect(report.totals.ssmDistributor).toEqual({
      protected: 1,
      partial: 1,
      unprotected: 1,
      'not-applicable': 1,
      unknown: 2,
    });
    expect(report.totals.ecrConnections).toEqual({
      protected: 2,
      partial: 0,
      unprotected: 2,
      'not-applicable': 0,
      unknown: 1,
    });
    const sum = Object.values(report.totals).reduce(
      (n, row) => n + Object.values(row).reduce((a, b) => a + b, 0),
      0,
    );
    expect(sum).toBe(report.cells.length);
  });
});
