import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDeployer } from '../../scripts/bundle-lambdas.mjs';
import { PROJECT_ENV, RUN_ENV } from '../../src/eks/run-contract.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import { FakeDynamoTable } from '../eks/fake-dynamo.js';
import { EksClusterFake } from '../fakes/eks/cluster.js';
import { AwsStandIn } from '../fakes/eks/server.js';
import { KubeStandIn } from '../fakes/kube/server.js';
import { ACCESS_KEY_ID, fixture, settingsFor } from './harness.js';

/**
 * The deployer process runs on the test's clock: when the suite runs under faketime (README ›
 * Development), its variables pass through, so the child sees the same time as the stand-ins whose
 * TLS certificate was made at the shifted time.
 */
function testClock(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined && /^(LD_PRELOAD|FAKETIME\w*|DONT_FAKE_MONOTONIC)$/.test(e[0]),
    ),
  );
}
const TABLE = 'falcon-org-eks-runs';
const REF = { accountId: '111122223333', region: 'eu-west-1', cluster: 'prod' };
const ROLE = 'arn:aws:iam::111122223333:role/falcon-org-eks-execution';

/** The bundled deployer against HTTP stand-ins, in real time, killed with SIGKILL at one step. */
class World {
  readonly dynamo = new FakeDynamoTable(TABLE);
  kube!: KubeStandIn;
  cluster!: EksClusterFake;
  aws!: AwsStandIn;

  static async start(): Promise<World> {
    const w = new World();
    w.kube = await KubeStandIn.start({
      now: () => Date.now(),
      accessKeyId: ACCESS_KEY_ID,
      crdEstablishedAfterMs: 0,
      deploymentAvailableAfterMs: 0,
      operator: { cleanupAfterMs: 0 },
    });
    w.cluster = new EksClusterFake(w.kube, () => Date.now());
    w.cluster.cluster.accessPropagationMs = 0;
    w.cluster.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    w.aws = await AwsStandIn.start({
      cluster: w.cluster,
      table: w.dynamo,
      objects: new Map([['artifacts/deployer/operator/v1.0.0/falcon-operator.yaml', fixture('v1.0.0')]]),
      accessKeyId: ACCESS_KEY_ID,
    });
    return w;
  }

  async close(): Promise<void> {
    await this.aws.close();
    await this.kube.close();
    this.dynamo.reset();
  }

  /** Takes the cluster's lock for `runId` as discovery does before it starts a build (after any earlier lease). */
  async lock(runId: string, hoursLater = 0): Promise<void> {
    const table = new DynamoRunsTable(this.dynamo.client, TABLE, {
      now: () => Date.now() + hoursLater * 3600_000,
    });
    expect((await table.takeLock(REF, runId, 3600)).taken).toBe(true);
  }

  /** Runs the bundle once; `kill` decides, after each mutating step, whether to SIGKILL it there. */
  run(
    bundle: string,
    runId: string,
    kill?: (step: string) => boolean,
  ): Promise<{ code: number | null; signal: string | null; out: string }> {
    const settings = { ...settingsFor('v1.0.0', { allowListEgress: true }), homeRegion: 'us-east-1' };
    const child = spawn(process.execPath, [bundle], {
      env: {
        ...testClock(),
        PATH: process.env['PATH'] ?? '',
        HOME: tmpdir(),
        [RUN_ENV.accountId]: REF.accountId,
        [RUN_ENV.region]: REF.region,
        [RUN_ENV.cluster]: REF.cluster,
        [RUN_ENV.compute]: 'nodes',
        [RUN_ENV.executionRoleArn]: ROLE,
        [RUN_ENV.runId]: runId,
        [RUN_ENV.mode]: 'install',
        [PROJECT_ENV.settings]: JSON.stringify(settings),
        [PROJECT_ENV.clientId]: 'id',
        [PROJECT_ENV.clientSecret]: 'bundle-secret-value',
        [PROJECT_ENV.runsTable]: TABLE,
        AWS_ACCESS_KEY_ID: 'AKIDHOMEACCOUNT',
        AWS_SECRET_ACCESS_KEY: 'home',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: this.aws.url,
        AWS_MAX_ATTEMPTS: '1',
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const die = () => {
      this.aws.frozen = true;
      child.kill('SIGKILL');
    };
    this.aws.frozen = false;
    this.aws.afterMutation = (name) => {
      if (kill?.(name)) die();
    };
    this.kube.options.faults = (r) => {
      if (r.method !== 'PATCH' || !kill?.('kube PATCH')) return undefined;
      die();
      return 'reset';
    };
    return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
  }
}

/** Kill after the `nth` (1-based) occurrence of a step; a Kubernetes kill lands on the second write (the first is done). */
function after(step: string, nth = 1): (name: string) => boolean {
  let seen = 0;
  return (name) => name === step && ++seen === nth;
}

describe('the bundled deployer killed with SIGKILL (dist/deployer/index.mjs in its own process)', () => {
  let outDir: string;
  let bundle: string;
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'falcon-org-deployer-kill-'));
    bundle = (await bundleDeployer(outDir)).file;
  }, 120_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('runs to the end against the stand-ins (the baseline the kills are measured against)', async () => {
    const w = await World.start();
    try {
      const before = w.cluster.snapshot();
      await w.lock('whole');
      const run = await w.run(bundle, 'whole');
      expect(run.code, run.out).toBe(0);
      expect(w.cluster.snapshot()).toEqual(before);
      expect(w.aws.mutations).toEqual(
        expect.arrayContaining([
          'UpdateClusterConfig',
          'CreateAccessEntry',
          'AssociateAccessPolicy',
          'DeleteAccessEntry',
        ]),
      );
    } finally {
      await w.close();
    }
  }, 60_000);

  // [when, kill, whether the kill leaves the cluster changed]
  for (const [what, kill, leaves] of [
    ['after recording what it is about to change', after('UpdateItem', 1), false],
    ['after widening the allow-list', after('UpdateClusterConfig', 1), true],
    ['after creating its access entry', after('CreateAccessEntry'), true],
    ['after associating the admin policy', after('AssociateAccessPolicy'), true],
    ['after its first Kubernetes write', after('kube PATCH', 2), true],
    ['after restoring the allow-list, before removing the entry', after('UpdateClusterConfig', 2), true],
  ] as const) {
    it(`killed ${what}: the next run leaves allow-list, entries and associations as before the first`, async () => {
      const w = await World.start();
      try {
        const before = w.cluster.snapshot();
        await w.lock('killed');
        const killed = await w.run(bundle, 'killed', kill);
        expect(killed.signal, killed.out).toBe('SIGKILL');
        expect(JSON.stringify(w.cluster.snapshot()) !== JSON.stringify(before)).toBe(leaves);

        await w.lock('next', 2); // the killed run's lease has run out
        const next = await w.run(bundle, 'next');

        expect(next.code, next.out).toBe(0);
        expect(w.cluster.snapshot()).toEqual(before);
        const item = w.dynamo.items.get(`${REF.accountId}#${REF.region}#${REF.cluster}`);
        expect(item?.['clusterChanges']).toBeUndefined();
        expect((item?.['lastRun'] as { runId?: string } | undefined)?.runId).toBe('next');
      } finally {
        await w.close();
      }
    }, 60_000);
  }
});
