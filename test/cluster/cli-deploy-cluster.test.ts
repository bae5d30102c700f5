import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerEksDeployCluster } from '../../src/cli/eks-deploy-cluster.js';
import { describeFailure } from '../../src/cli/exit.js';
import type { RunsTableLookup } from '../../src/cluster/cli-run.js';
import { configManifestSource, roleArnOfCaller } from '../../src/cluster/from-config.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import { FakeDynamoTable } from '../eks/fake-dynamo.js';
import { sha256Hex } from '../../src/cluster/manifest.js';
import type { RunResult } from '../../src/eks/run-contract.js';
import { capture } from '../cli/helpers.js';
import { cliConfigFile, DeployerHarness, fixture } from './harness.js';

const TABLE = 'falcon-org-runs-cli';
const prodArgs = (config: string) => [
  '--config',
  config,
  '--account',
  '111122223333',
  '--region',
  'eu-west-1',
  '--cluster',
  'prod',
];
const REF = { accountId: '111122223333', region: 'eu-west-1', cluster: 'prod' };

describe('falcon-org eks deploy-cluster', () => {
  let h: DeployerHarness;
  let dir: string;
  let dynamo: FakeDynamoTable;
  let table: DynamoRunsTable;
  /** What the home-account lookup answers: the deployment's runs table, or why there is none. */
  let lookup: () => RunsTableLookup;
  let homeProfiles: (string | undefined)[];
  beforeEach(async () => {
    h = await DeployerHarness.start();
    dir = mkdtempSync(join(tmpdir(), 'falcon-org-cli-'));
    vi.stubEnv('FALCON_CLIENT_ID', 'cli-id');
    vi.stubEnv('FALCON_CLIENT_SECRET', 'cli-secret-value');
    dynamo = new FakeDynamoTable(TABLE);
    table = new DynamoRunsTable(dynamo.client, TABLE, { now: h.clock.now });
    lookup = () => ({ found: true, name: TABLE, table });
    homeProfiles = [];
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
    dynamo.reset();
    await h.close();
  });

  async function cli(
    args: string[],
  ): Promise<{ code: number; out: string[]; err: string[]; message?: string }> {
    const output = capture();
    const program = new Command('falcon-org').exitOverride();
    program.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    registerEksDeployCluster(program, output, {
      runsTable: (_config, homeProfile) => {
        homeProfiles.push(homeProfile);
        return Promise.resolve(lookup());
      },
      deployerDeps: (config, _environment, options, log) => {
        // The harness's own recorder stays out: the CLI passes the runs table.
        const deps = { ...h.deps(), runs: undefined };
        return Promise.resolve({
          ...deps,
          manifests: configManifestSource(config),
          log,
          principalArn: options.roleArn ?? 'arn:aws:iam::111122223333:role/admin',
        });
      },
    });
    try {
      await program.parseAsync(['eks', 'deploy-cluster', ...args], { from: 'user' });
      return { code: 0, out: output.stdout, err: output.stderr };
    } catch (error) {
      const failure = describeFailure(error, false);
      const code = error instanceof Error && error.name === 'CommanderError' ? 2 : failure.code;
      return { code, out: output.stdout, err: output.stderr, message: failure.message };
    }
  }

  it('installs with the configured settings and the local manifest, prints the JSON result, then uninstalls — recording both in the runs table', async () => {
    const config = cliConfigFile(dir, sha256Hex(fixture('v1.0.0')));
    const base = [...prodArgs(config), '--json'];
    const installed = await cli(base);
    expect(installed.code).toBe(0);
    const result = JSON.parse(installed.out.join('\n')) as RunResult;
    expect(result).toMatchObject({ cluster: 'prod', outcome: 'protected', mode: 'install' });
    const sensor = h.customResources().find((c) => c['kind'] === 'FalconNodeSensor')!;
    expect(sensor['spec']).toMatchObject({
      node: { backend: 'kernel' },
      falcon_api: { cloud_region: 'us-2' },
    });
    expect(h.customResources().map((c) => c['kind'])).toEqual(['FalconNodeSensor']);
    expect([...h.accessEntries.keys()]).toEqual([]);

    // The run held the cluster's lock and recorded its result, as every other way in does.
    const afterInstall = await table.get(REF);
    expect(afterInstall?.lockRunId).toBeUndefined();
    expect(afterInstall?.lastRun).toMatchObject({ runId: result.runId, outcome: 'protected' });
    expect(result.runId).toMatch(/^cli-[0-9a-f-]{36}$/);
    expect(afterInstall?.falconInstalledAt).toBeDefined();

    const removed = await cli([...base, '--uninstall']);
    expect(removed.code).toBe(0);
    const uninstalled = JSON.parse(removed.out.join('\n')) as RunResult;
    expect(uninstalled.outcome).toBe('uninstalled');
    expect(h.customResources()).toEqual([]);
    const afterUninstall = await table.get(REF);
    expect(afterUninstall?.lastRun).toMatchObject({ runId: uninstalled.runId, outcome: 'uninstalled' });
    expect(afterUninstall?.falconRemovedAt).toBeDefined();
    // Tagged out, so the next sweep leaves the cluster alone, and judged so at once.
    expect(h.cluster.tags).toEqual({ 'falcon-org/protect': 'false' });
    expect(afterUninstall?.verdict).toMatchObject({ kind: 'ineligible', code: 'opted-out' });
    expect(homeProfiles).toEqual([undefined, undefined]);
  });

  it('takes the same lock as every other run: refuses while another run holds the cluster, and changes nothing', async () => {
    const config = cliConfigFile(dir, sha256Hex(fixture('v1.0.0')));
    await table.takeLock(REF, 'codebuild-run-7', 3600);

    const run = await cli([...prodArgs(config)]);

    expect(run.code).toBe(1);
    expect(run.message).toMatch(
      /^run codebuild-run-7 holds cluster prod \(account 111122223333, eu-west-1\) \(lock in runs table falcon-org-runs-cli until .+\); nothing was done/,
    );
    expect(h.eks.calls()).toEqual([]);
    expect(h.standIn.requests).toEqual([]);
    expect((await table.get(REF))?.lockRunId).toBe('codebuild-run-7');
  });

  it('installs nothing on a cluster tagged out unless --opt-in, which removes the tag first', async () => {
    const config = cliConfigFile(dir, sha256Hex(fixture('v1.0.0')));
    const base = [...prodArgs(config)];
    h.cluster.tags['falcon-org/protect'] = 'false';

    const refused = await cli(base);
    expect(refused.code).toBe(0);
    expect(refused.out.join('\n')).toMatch(
      /prod \(111122223333\/eu-west-1\): opted-out\n {2}reason: the cluster is tagged falcon-org\/protect=false/,
    );
    expect(h.standIn.writes()).toEqual([]);
    expect((await table.get(REF))?.lastRun?.outcome).toBe('opted-out');

    const optedIn = await cli([...base, '--opt-in']);
    expect(optedIn.code).toBe(0);
    expect(optedIn.out[0]).toBe('prod (111122223333/eu-west-1): protected');
    expect(optedIn.out).toContain('  tag falcon-org/protect removed: the cluster is protected again');
    expect(h.cluster.tags).toEqual({});
  });

  it('--uninstall --no-opt-out leaves the cluster untagged (the next sweep installs again)', async () => {
    const config = cliConfigFile(dir, sha256Hex(fixture('v1.0.0')));
    const base = [...prodArgs(config)];
    expect((await cli(base)).code).toBe(0);
    expect((await cli([...base, '--uninstall', '--no-opt-out'])).code).toBe(0);
    expect(h.cluster.tags).toEqual({});
    expect((await table.get(REF))?.verdict).toBeUndefined();
  });

  it('refuses to install while the deployment is being destroyed, and gives the lock back', async () => {
    const config = cliConfigFile(dir, sha256Hex(fixture('v1.0.0')));
    await table.markDestroying({
      since: '2026-11-29T12:00:00.000Z',
      by: 'arn:aws:iam::999999999999:role/Admin',
    });

    const run = await cli([...prodArgs(config)]);

    expect(run.code).toBe(1);
    expect(run.message).toBe(
      'the deployment is being destroyed (since 2026-11-29T12:00:00.000Z, by arn:aws:iam::999999999999:role/Admin); no install run starts; nothing was done',
    );
    expect(h.standIn.requests).toEqual([]);
    expect((await table.get(REF))?.lockRunId).toBeUndefined();
  });

  it('without the runs table refuses, naming --home-profile and --without-lock; --without-lock runs unlocked', async () => {
    const config = cliConfigFile(dir, sha256Hex(fixture('v1.0.0')));
    const base = [...prodArgs(config)];
    lookup = () => ({
      found: false,
      reason:
        "the EKS deployer project falcon-org-eks-deployer does not exist in us-east-1 for profile member, so the cluster's run lock cannot be taken; … pass --home-profile PROFILE; if EKS Protection is not deployed, pass --without-lock",
    });

    const refused = await cli([...base, '--home-profile', 'member']);
    expect(refused.code).toBe(1);
    expect(refused.message).toMatch(
      /--home-profile PROFILE; if EKS Protection is not deployed, pass --without-lock$/,
    );
    expect(homeProfiles).toEqual(['member']);
    expect(h.standIn.requests).toEqual([]);

    const unlocked = await cli([...base, '--without-lock']);
    expect(unlocked.code).toBe(0);
    expect(unlocked.out.some((l) => /^ {2}run cli-[0-9a-f-]+: no run lock \(--without-lock\)$/.test(l))).toBe(
      true,
    );
    expect(dynamo.items.size).toBe(0);
  });

  it('exits 1 with the reason when the manifest does not match its checksum', async () => {
    const config = cliConfigFile(dir, 'f'.repeat(64));
    const run = await cli([...prodArgs(config)]);
    expect(run.code).toBe(1);
    expect(run.out.join('\n')).toMatch(
      /prod \(111122223333\/eu-west-1\): failed\n {2}reason: operator manifest v1\.0\.0: SHA-256 is/,
    );
    expect(h.standIn.requests).toEqual([]);
  });

  it('rejects a bad account or compute mode with exit code 2 before doing anything', async () => {
    const config = cliConfigFile(dir, sha256Hex(fixture('v1.0.0')));
    const run = await cli([
      '--config',
      config,
      '--account',
      '12',
      '--region',
      'eu-west-1',
      '--cluster',
      'p',
      '--compute',
      'ec2',
    ]);
    expect(run.code).toBe(2);
    expect(h.eks.calls()).toEqual([]);
  });

  it('turns an assumed-role session into the role ARN the access entry needs', () => {
    expect(roleArnOfCaller('arn:aws:sts::111122223333:assumed-role/Admin/alice')).toBe(
      'arn:aws:iam::111122223333:role/Admin',
    );
    expect(roleArnOfCaller('arn:aws:iam::111122223333:user/bob')).toBe('arn:aws:iam::111122223333:user/bob');
  });
});
