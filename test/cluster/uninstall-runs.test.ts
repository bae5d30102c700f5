import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  parseClusterRef,
  runUninstallsBeforeDestroy,
  waitForRunsInFlight,
  type UninstallRunsDeps,
} from '../../src/cluster/uninstall-runs.js';
import { RUN_ENV, type RunResult } from '../../src/eks/run-contract.js';
import { DynamoRunsTable, type ClusterRef } from '../../src/eks/runs-table.js';
import { RunStarter } from '../../src/eks/start-run.js';
import { DeployerSimulator } from '../eks/deployer-simulator.js';
import { FakeDynamoTable } from '../eks/fake-dynamo.js';
import { VirtualClock } from './harness.js';

const ACCOUNT = '111122223333';
const CLOSED = '444455556666';
const ref = (cluster: string, accountId = ACCOUNT): ClusterRef => ({
  accountId,
  region: 'eu-west-1',
  cluster,
});

function lastRun(
  r: ClusterRef,
  outcome: RunResult['outcome'],
  mode: RunResult['mode'] = 'install',
): RunResult {
  return {
    runId: `old-${r.cluster}`,
    ...r,
    mode,
    outcome,
    components: [],
    startedAt: '2026-11-01T00:00:00Z',
    finishedAt: '2026-11-01T00:10:00Z',
    durationsMs: {},
  };
}

/** The runs table (stateful DynamoDB fake), the deployer project (simulated builds) and virtual time. */
class Home {
  readonly dynamo = new FakeDynamoTable('runs');
  readonly clock = new VirtualClock();
  readonly table = new DynamoRunsTable(this.dynamo.client, 'runs', { now: this.clock.now });
  readonly deployer = new DeployerSimulator(this.table, this.clock.now);
  private n = 0;

  /** A cluster whose install run wrote to it, then whose last run ended `last`. */
  async installed(r: ClusterRef, last: RunResult['outcome'] = 'protected'): Promise<void> {
    await this.table.takeLock(r, `install-${r.cluster}`, 60);
    await this.table.recordFalconInstalled(r, `install-${r.cluster}`);
    await this.table.releaseLock({ ...lastRun(r, 'protected'), runId: `install-${r.cluster}` });
    if (last !== 'protected') {
      await this.table.takeLock(r, `later-${r.cluster}`, 60);
      await this.table.releaseLock({ ...lastRun(r, last), runId: `later-${r.cluster}` });
    }
  }

  deps(extra: Partial<UninstallRunsDeps> = {}): UninstallRunsDeps {
    // CodeBuild runs each build while destroy waits between its polls.
    const clock = {
      now: this.clock.now,
      sleep: async (ms: number) => {
        await this.deployer.finishAll();
        await this.clock.sleep(ms);
      },
    };
    return {
      table: this.table,
      runs: new RunStarter(this.table, this.deployer.starter(), {
        partition: 'aws',
        executionRoleName: 'falcon-org-eks-execution',
        lockTtlSeconds: 3600,
        newRunId: () => `uninstall-${++this.n}`,
        now: this.clock.now,
      }),
      buildStatuses: this.deployer.statuses,
      deadlineSeconds: 3600,
      clock,
      ...extra,
    };
  }
}

describe('uninstall runs before destroy', () => {
  let home: Home;
  beforeEach(() => {
    home = new Home();
  });
  afterEach(() => home.dynamo.reset());

  it('uninstalls every cluster Falcon was ever installed on — also one whose later run could not reach it — and reports each', async () => {
    await home.installed(ref('protected'));
    await home.installed(ref('later-unreachable'), 'not-reachable');
    await home.installed(ref('later-failed'), 'failed');
    // Never installed: only ever judged, or its only run could not reach it.
    await home.table.recordVerdict(ref('never'), {
      kind: 'ineligible',
      code: 'private-endpoint',
      reason: 'x',
    });
    await home.table.takeLock(ref('unreachable-only'), 'r', 60);
    await home.table.releaseLock({ ...lastRun(ref('unreachable-only'), 'not-reachable'), runId: 'r' });
    // Uninstalled already (e.g. from the CLI): nothing left to remove.
    await home.installed(ref('removed'));
    await home.table.recordFalconRemoved(ref('removed'), 'cli-uninstall');
    home.deployer.outcomes.set(`${ACCOUNT}/eu-west-1/later-unreachable`, 'not-reachable');

    const results = await runUninstallsBeforeDestroy(home.deps());

    expect(home.deployer.builds.map((b) => [b.env[RUN_ENV.cluster], b.env[RUN_ENV.mode]])).toEqual([
      ['later-failed', 'uninstall'],
      ['later-unreachable', 'uninstall'],
      ['protected', 'uninstall'],
    ]);
    expect(home.deployer.builds[0]?.env[RUN_ENV.executionRoleArn]).toBe(
      `arn:aws:iam::${ACCOUNT}:role/falcon-org-eks-execution`,
    );
    // The run ID is the idempotency token of its StartBuild.
    expect(home.deployer.builds.map((b) => b.idempotencyToken)).toEqual(
      home.deployer.builds.map((b) => b.env[RUN_ENV.runId]),
    );
    expect(results).toEqual([
      { ...ref('later-failed'), status: 'uninstalled' },
      {
        ...ref('later-unreachable'),
        status: 'not-reachable',
        reason: 'the public endpoint admits only 10.0.0.0/8, which excludes the deployer',
      },
      { ...ref('protected'), status: 'uninstalled' },
    ]);
    // What was removed is recorded: a second destroy does not try those clusters again.
    const again = await runUninstallsBeforeDestroy(home.deps());
    expect(again.map((r) => [r.cluster, r.status])).toEqual([['later-unreachable', 'not-reachable']]);
  });

  it('leaves named accounts and clusters alone and says so, and still uninstalls the rest', async () => {
    await home.installed(ref('a'));
    await home.installed(ref('b'));
    await home.installed(ref('in-closed-account', CLOSED));

    const results = await runUninstallsBeforeDestroy(
      home.deps({ skip: { accounts: [CLOSED], clusters: [ref('b')] } }),
    );

    expect(home.deployer.builds.map((b) => b.env[RUN_ENV.cluster])).toEqual(['a']);
    expect(results.map((r) => [r.accountId, r.cluster, r.status])).toEqual([
      [ACCOUNT, 'b', 'skipped'],
      [CLOSED, 'in-closed-account', 'skipped'],
      [ACCOUNT, 'a', 'uninstalled'],
    ]);
  });

  it('reports a cluster whose lock another run holds, and runs still going at the deadline', async () => {
    await home.installed(ref('busy'));
    await home.installed(ref('slow'));
    await home.table.takeLock(ref('busy'), 'running-install', 3600);

    const results = await runUninstallsBeforeDestroy(
      home.deps({
        deadlineSeconds: 60,
        clock: home.clock, // nothing runs the builds
      }),
    );

    expect(results).toEqual([
      { ...ref('busy'), status: 'in-progress', reason: 'run running-install holds the cluster' },
      { ...ref('slow'), status: 'timed-out', reason: 'build falcon-org-eks-deployer:build-1 still running' },
    ]);
  });

  it('waits for the runs in flight before anything is chosen, up to the deadline', async () => {
    await home.table.takeLock(ref('installing'), 'install-run', 3600);
    const lines: string[] = [];
    let sleeps = 0;
    const clock = {
      now: home.clock.now,
      sleep: async (ms: number) => {
        if (++sleeps === 2)
          await home.table.releaseLock({ ...lastRun(ref('installing'), 'protected'), runId: 'install-run' });
        await home.clock.sleep(ms);
      },
    };
    expect(await waitForRunsInFlight(home.table, 3600, clock, (l) => lines.push(l))).toEqual([]);
    expect(sleeps).toBe(2);
    expect(lines).toEqual([
      `Waiting for 1 deployer run(s) already in flight: installing (${ACCOUNT}/eu-west-1, run install-run)`,
    ]);

    await home.table.takeLock(ref('stuck'), 'stuck-run', 3600);
    const held = await waitForRunsInFlight(home.table, 60, home.clock);
    expect(held.map((h) => h.lockRunId)).toEqual(['stuck-run']);
  });

  it('reads clusters as ACCOUNT/REGION/NAME or as an ARN, and names the forms when neither fits', () => {
    expect(parseClusterRef('111122223333/eu-west-1/prod')).toEqual(ref('prod'));
    expect(parseClusterRef('arn:aws:eks:eu-west-1:111122223333:cluster/prod')).toEqual(ref('prod'));
    expect(parseClusterRef('prod')).toEqual({
      error:
        '"prod" is not a cluster: expected ACCOUNT/REGION/NAME (e.g. 111122223333/eu-west-1/prod) or a cluster ARN',
    });
  });
});
