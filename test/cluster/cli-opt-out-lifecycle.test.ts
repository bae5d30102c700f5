/**
 * Acceptance lifecycle: a person removes Falcon from one cluster with the CLI, and the scheduled
 * sweep and cluster events afterwards leave it alone — until the person opts it in again. Through
 * the CLI command and the real eks-discover / eks-event handlers; one cluster's state (its tags, its
 * Kubernetes objects) and one runs table are shared by every step. The deployer harness and the
 * organization fake each answer EKS while it is their turn (one EKS mock at a time).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerEksDeployCluster } from '../../src/cli/eks-deploy-cluster.js';
import { describeFailure } from '../../src/cli/exit.js';
import { configManifestSource } from '../../src/cluster/from-config.js';
import { sha256Hex } from '../../src/cluster/manifest.js';
import type { DiscoveryReport } from '../../src/eks/report.js';
import { RUN_ENV } from '../../src/eks/run-contract.js';
import { createEksDiscoverHandler } from '../../src/handlers/eks-discover.js';
import { createEksEventHandler } from '../../src/handlers/eks-event.js';
import { capture } from '../cli/helpers.js';
import { cloudTrailEvent, EksWorld, TABLE } from '../eks/eks-world.js';
import { cliConfigFile, DeployerHarness, fixture } from './harness.js';
import { captureLogs } from '../shared/log-capture.js';

const MEMBER = '111122223333';
const REGION = 'eu-west-1';
const REF = { accountId: MEMBER, region: REGION, cluster: 'prod' };
const SCHEDULE = { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'tick' };

describe('CLI uninstall, then the sweep', () => {
  let world: EksWorld;
  let dir: string;
  /** The cluster's tags: one object, read by whichever EKS fake answers. */
  const tags: Record<string, string> = {};

  beforeEach(() => {
    for (const k of Object.keys(tags)) delete tags[k];
    world = new EksWorld();
    world.addAccounts('r-root', [MEMBER]);
    world.settings = { ...world.settings, regions: [REGION] };
    world.addCluster(MEMBER, REGION, {
      name: 'prod',
      authenticationMode: 'API_AND_CONFIG_MAP',
      nodegroups: ['ng'],
      tags,
    });
    dir = mkdtempSync(join(tmpdir(), 'falcon-org-lifecycle-'));
    vi.stubEnv('FALCON_CLIENT_ID', 'cli-id');
    vi.stubEnv('FALCON_CLIENT_SECRET', 'cli-secret-value');
    captureLogs();
  });
  afterEach(() => {
    world.reset();
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `falcon-org eks deploy-cluster …` against the cluster, with the world's runs table. */
  async function cli(h: DeployerHarness, extra: string[]): Promise<{ code: number; out: string[] }> {
    const output = capture();
    const program = new Command('falcon-org').exitOverride();
    program.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    registerEksDeployCluster(program, output, {
      runsTable: () => Promise.resolve({ found: true, name: TABLE, table: world.table }),
      deployerDeps: (config, _environment, _options, log) =>
        Promise.resolve({
          ...h.deps(),
          runs: undefined,
          manifests: configManifestSource(config),
          log,
          principalArn: 'arn:aws:iam::111122223333:role/admin',
        }),
    });
    const args = ['--config', cliConfigFile(dir, sha256Hex(fixture('v1.0.0'))), '--account', MEMBER];
    try {
      await program.parseAsync(
        ['eks', 'deploy-cluster', ...args, '--region', REGION, '--cluster', 'prod', ...extra],
        { from: 'user' },
      );
      return { code: 0, out: output.stdout };
    } catch (error) {
      return { code: describeFailure(error, false).code, out: output.stdout };
    }
  }

  /** The deployer harness has EKS (and the cluster's tags) while the CLI runs. */
  async function withCluster<T>(work: (h: DeployerHarness) => Promise<T>): Promise<T> {
    const h = await DeployerHarness.start();
    h.cluster.tags = tags;
    try {
      return await work(h);
    } finally {
      await h.close();
      world.mockEks(); // the organization answers EKS again
    }
  }

  const sweep = async () =>
    (await createEksDiscoverHandler({ env: world.env(), services: world.services })(
      SCHEDULE,
      world.context(),
    )) as {
      counts: DiscoveryReport['counts'];
    };
  const fargateProfile = () =>
    createEksEventHandler({ env: world.env(), services: world.services, sleep: () => Promise.resolve() })(
      cloudTrailEvent({ account: MEMBER, region: REGION }, 'CreateFargateProfile', {
        clusterName: 'prod',
        fargateProfileName: 'fp',
      }),
      world.context(),
    );

  it('is not reinstalled by the next sweep or event, and is protected again after --opt-in', async () => {
    // Protected from the CLI, then removed from the CLI.
    await withCluster(async (h) => {
      expect((await cli(h, [])).out[0]).toBe(`prod (${MEMBER}/${REGION}): protected`);
      const removed = await cli(h, ['--uninstall']);
      expect(removed.code).toBe(0);
      expect(removed.out[0]).toBe(`prod (${MEMBER}/${REGION}): uninstalled`);
      expect(h.customResources()).toEqual([]);
    });
    expect(tags).toEqual({ 'falcon-org/protect': 'false' });

    // The schedule fires, and a CreateFargateProfile arrives: neither starts a run.
    const counts = (await sweep()).counts;
    expect(counts).toMatchObject({ clusters: 1, optedOut: 1, runsStarted: 0 });
    expect(await fargateProfile()).toMatchObject({
      action: 'judged',
      verdict: { code: 'opted-out' },
    });
    expect(world.builds).toEqual([]);
    const item = await world.table.get(REF);
    expect(item?.verdict?.code).toBe('opted-out');
    expect(item?.lastRun?.outcome).toBe('uninstalled');
    expect(item?.falconRemovedAt).toBeDefined(); // destroy will not try this cluster either

    // The owner opts it in again: the tag goes, the cluster is protected, and sweeps keep it so.
    await withCluster(async (h) => {
      const optedIn = await cli(h, ['--opt-in']);
      expect(optedIn.out[0]).toBe(`prod (${MEMBER}/${REGION}): protected`);
    });
    expect(tags).toEqual({});
    expect((await sweep()).counts).toMatchObject({ optedOut: 0, runsStarted: 1 });
    expect(world.builds.map((b) => [b.env[RUN_ENV.cluster], b.env[RUN_ENV.mode]])).toEqual([
      ['prod', 'install'],
    ]);
  });
});
