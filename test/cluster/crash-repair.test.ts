import { afterEach, describe, expect, it } from 'vitest';
import type { DeployerRunSettings } from '../../src/cluster/settings.js';
import { runDeployer } from '../../src/cluster/run.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import { FakeDynamoTable } from '../eks/fake-dynamo.js';
import { DeployerHarness, settingsFor } from './harness.js';

const PRINCIPAL = 'arn:aws:iam::111122223333:role/falcon-org-eks-execution';
const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const VIEW = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';

interface Scenario {
  readonly name: string;
  readonly settings: DeployerRunSettings;
  readonly mode: 'install' | 'uninstall';
  /** The cluster before the first run. */
  readonly setUp: (h: DeployerHarness) => void;
}

const widening = settingsFor('v1.0.0', { allowListEgress: true });

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'a restricted allow-list widened for the run and an access entry the run creates',
    settings: widening,
    mode: 'install',
    setUp: (h) => {
      h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    },
  },
  {
    name: "someone else's access entry without the admin policy (View only)",
    settings: settingsFor(),
    mode: 'install',
    setUp: (h) => {
      h.accessEntries.set(PRINCIPAL, { username: 'platform-team' });
      h.associations.set(PRINCIPAL, new Map([[VIEW, { type: 'cluster' as const }]]));
    },
  },
  {
    name: "someone else's access entry with the admin policy on one namespace, allow-list widened",
    settings: widening,
    mode: 'install',
    setUp: (h) => {
      h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
      h.accessEntries.set(PRINCIPAL, {});
      h.associations.set(PRINCIPAL, new Map([[ADMIN, { type: 'namespace' as const, namespaces: ['apps'] }]]));
    },
  },
  {
    name: 'an uninstall through a widened allow-list',
    settings: widening,
    mode: 'uninstall',
    setUp: (h) => {
      h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    },
  },
];

/** The mutating steps of a whole run of the scenario, in order (each one is a kill point). */
async function stepsOf(scenario: Scenario): Promise<string[]> {
  const h = await DeployerHarness.start();
  try {
    scenario.setUp(h);
    if (scenario.mode === 'uninstall')
      expect((await h.run('nodes', scenario.settings)).outcome).toBe('protected');
    const { deps, steps } = h.killableDeps();
    const result = await runDeployer(h.request('nodes', scenario.mode, 'measure'), scenario.settings, deps);
    expect(result.outcome, result.reason).toBe(scenario.mode === 'install' ? 'protected' : 'uninstalled');
    return steps;
  } finally {
    await h.close();
  }
}

/** Every step but the Kubernetes writes in the middle (the first and the last of them are kept). */
function killPoints(steps: readonly string[]): number[] {
  const kube = steps.flatMap((s, i) => (s.startsWith('kube') ? [i] : []));
  return steps.flatMap((s, i) => (!s.startsWith('kube') || i === kube[0] || i === kube.at(-1) ? [i] : []));
}

/** A runs table (stateful fake) on the harness's virtual clock, for runs that take its lock. */
async function withRunsTable(
  h: DeployerHarness,
  work: (table: DynamoRunsTable, advance: (ms: number) => void) => Promise<void>,
): Promise<void> {
  h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
  const dynamo = new FakeDynamoTable('runs');
  let offset = 0;
  try {
    await work(new DynamoRunsTable(dynamo.client, 'runs', { now: () => h.clock.now() + offset }), (ms) => {
      offset += ms;
    });
  } finally {
    dynamo.reset();
  }
}

const REF = { accountId: '111122223333', region: 'eu-west-1', cluster: 'prod' };

describe('cluster changes survive a killed run: the next run restores them', () => {
  let h: DeployerHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: killed after each mutating step, the next run leaves allow-list, entries and associations as before`, async () => {
      const steps = await stepsOf(scenario);
      expect(steps).toContain('record');
      const points = killPoints(steps);
      let leftSomething = 0;
      for (const point of points) {
        h = await DeployerHarness.start();
        scenario.setUp(h);
        if (scenario.mode === 'uninstall') {
          expect((await h.run('nodes', scenario.settings)).outcome).toBe('protected');
        }
        const before = h.fake.snapshot();

        const killed = h.killableDeps((_step, index) => index === point);
        void runDeployer(
          h.request('nodes', scenario.mode, `killed-${point}`),
          scenario.settings,
          killed.deps,
        );
        await killed.dead;
        expect(killed.steps.at(-1), `kill point ${point}`).toBe(steps[point]);
        if (JSON.stringify(h.fake.snapshot()) !== JSON.stringify(before)) leftSomething++;

        const next = await h.run('nodes', scenario.settings, scenario.mode);

        expect(next.outcome, `after a kill at ${steps[point]} (#${point}): ${next.reason}`).toMatch(
          scenario.mode === 'install' ? /^(already-)?protected$/ : /^uninstalled$/,
        );
        expect(h.fake.snapshot(), `after a kill at ${steps[point]} (#${point})`).toEqual(before);
        expect(h.recorded).toBeUndefined();
        await h.close();
        h = undefined;
      }
      // The kills did leave changes behind for the next run to undo.
      expect(leftSomething).toBeGreaterThan(0);
    }, 120_000);
  }

  it('a repair run only undoes what a killed run left, and reports it', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    const killed = h.killableDeps((step) => step === 'AssociateAccessPolicy');
    void runDeployer(h.request('nodes', 'install', 'killed'), widening, killed.deps);
    await killed.dead;
    expect(h.cluster.publicAccessCidrs).toEqual(['198.51.100.0/24', '203.0.113.10/32']);
    expect(h.accessEntries.has(PRINCIPAL)).toBe(true);
    const writes = h.standIn.requests.length;

    const repair = await runDeployer(h.request('nodes', 'repair', 'repair-1'), widening, h.deps());

    expect(repair.outcome).toBe('repaired');
    expect(repair.reason).toBe(
      `undid what run killed left: allow-list restored to 198.51.100.0/24; access entry of ${PRINCIPAL} removed`,
    );
    expect(h.cluster.publicAccessCidrs).toEqual(['198.51.100.0/24']);
    expect(h.accessEntries.size).toBe(0);
    expect(h.recorded).toBeUndefined();
    expect(h.standIn.requests.length).toBe(writes); // Kubernetes is not touched
    // Nothing left: a second repair says so.
    const again = await runDeployer(h.request('nodes', 'repair', 'repair-2'), widening, h.deps());
    expect(again).toMatchObject({ outcome: 'repaired', reason: 'no earlier run left anything to undo' });
  });

  it('an allow-list someone changed after the killed run is left as they set it', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    const killed = h.killableDeps((step) => step === 'UpdateClusterConfig');
    void runDeployer(h.request('nodes', 'install', 'killed'), widening, killed.deps);
    await killed.dead;
    h.cluster.publicAccessCidrs = ['192.0.2.0/24']; // an administrator narrowed it by hand

    const repair = await runDeployer(h.request('nodes', 'repair', 'repair-1'), widening, h.deps());

    expect(repair.outcome).toBe('repaired');
    expect(repair.reason).toContain('allow-list left as changed since (192.0.2.0/24)');
    expect(h.cluster.publicAccessCidrs).toEqual(['192.0.2.0/24']);
  });

  it('what cannot be undone fails the run before it changes anything, and stays recorded', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    const killed = h.killableDeps((step) => step === 'CreateAccessEntry');
    void runDeployer(h.request('nodes', 'install', 'killed'), widening, killed.deps);
    await killed.dead;
    h.cluster.failUpdatesAfter = 1; // the restore will fail

    const next = await h.run('nodes', widening);

    expect(next.outcome).toBe('failed');
    expect(next.reason).toMatch(
      /^could not undo what run killed left on the cluster: restoring the endpoint allow-list to 198\.51\.100\.0\/24 failed: .*simulated failure/,
    );
    expect(h.recorded?.runId).toBe('killed');
    expect(h.standIn.writes()).toEqual([]);
  });

  it('a cluster deleted after the killed run: its record is dropped', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    const killed = h.killableDeps((step) => step === 'UpdateClusterConfig');
    void runDeployer(h.request('nodes', 'install', 'killed'), widening, killed.deps);
    await killed.dead;
    h.cluster.statuses = ['GONE'];

    const repair = await runDeployer(h.request('nodes', 'repair', 'repair-1'), widening, h.deps());

    expect(repair.outcome).toBe('repaired');
    expect(repair.reason).toMatch(/does not exist/);
    expect(h.recorded).toBeUndefined();
  });

  it('a run whose lock expired and was taken over stops before it changes the cluster', async () => {
    h = await DeployerHarness.start();
    const harness = h;
    await withRunsTable(harness, async (table, advance) => {
      await table.takeLock(REF, 'slow-run', 60);
      advance(120_000);
      await table.takeLock(REF, 'newer-run', 3600);

      const result = await runDeployer(harness.request('nodes', 'install', 'slow-run'), widening, {
        ...harness.deps(),
        runs: table,
      });

      expect(result.outcome).toBe('failed');
      expect(result.reason).toMatch(/^run slow-run no longer holds the lock of cluster prod .*; stopping$/);
      expect(harness.cidrUpdates).toEqual([]);
      expect(harness.accessEntries.size).toBe(0);
      expect((await table.get(REF))?.lockRunId).toBe('newer-run');
    });
  });

  it('through the runs table: a run killed after widening is repaired by the next run that takes the lock', async () => {
    h = await DeployerHarness.start();
    const harness = h;
    await withRunsTable(harness, async (table, advance) => {
      await table.takeLock(REF, 'killed', 3600);
      const killed = harness.killableDeps((step) => step === 'UpdateClusterConfig');
      void runDeployer(harness.request('nodes', 'install', 'killed'), widening, {
        ...killed.deps,
        runs: table,
      });
      await killed.dead;
      expect((await table.get(REF))?.clusterChanges?.allowList?.original).toEqual(['198.51.100.0/24']);

      advance(2 * 3600_000); // the killed run's lease runs out
      expect((await table.takeLock(REF, 'next', 3600)).taken).toBe(true);
      const next = await runDeployer(harness.request('nodes', 'install', 'next'), widening, {
        ...harness.deps(),
        runs: table,
      });

      expect(next.outcome, next.reason).toBe('protected');
      expect(harness.cluster.publicAccessCidrs).toEqual(['198.51.100.0/24']);
      expect(harness.accessEntries.size).toBe(0);
      const item = await table.get(REF);
      expect(item?.clusterChanges).toBeUndefined();
      expect(item?.lockRunId).toBeUndefined();
      expect(item?.lastRun?.runId).toBe('next');
      expect(harness.logs.some((l) => l.includes('"message":"leftovers-undone"'))).toBe(true);
    });
  });
});
