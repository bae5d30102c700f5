import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cluster/main.js';
import { runDeployer } from '../../src/cluster/run.js';
import { PROJECT_ENV, RUN_ENV } from '../../src/eks/run-contract.js';
import { DeployerHarness, settingsFor } from './harness.js';

describe('run reasons name every problem (no cut at 400 characters)', () => {
  let h: DeployerHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a deployer environment that is wrong everywhere names every variable and every settings field', async () => {
    const lines: string[] = [];
    const code = await main(
      {
        [RUN_ENV.accountId]: 'x',
        [RUN_ENV.region]: 'moon',
        [RUN_ENV.cluster]: '-bad',
        [RUN_ENV.executionRoleArn]: 'nope',
        [RUN_ENV.compute]: 'gpu',
        [RUN_ENV.mode]: 'destroy',
        [PROJECT_ENV.settings]: JSON.stringify({
          ...settingsFor(),
          partition: 7,
          deadlines: { ...settingsFor().deadlines, uninstallSeconds: -1 },
        }),
      },
      (line) => lines.push(line),
    );
    expect(code).toBe(2);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'ERROR',
      message: 'settings-error',
      service: 'falcon-org-eks-deployer',
    });
    const error = String((JSON.parse(lines[0] ?? '{}') as { error?: string }).error);
    for (const problem of [
      `${RUN_ENV.accountId} is "x"`,
      `${RUN_ENV.region} is "moon"`,
      `${RUN_ENV.cluster} is "-bad"`,
      `${RUN_ENV.executionRoleArn} is "nope"`,
      `${RUN_ENV.compute} is "gpu"`,
      `${RUN_ENV.mode} is "destroy"`,
      `${PROJECT_ENV.clientId} is not set`,
      `${PROJECT_ENV.clientSecret} is not set`,
      `${PROJECT_ENV.settings}: partition: `,
      'deadlines.uninstallSeconds: Too small',
    ]) {
      expect(error).toContain(problem);
    }
  });

  it('a Fargate-only cluster with a long name gets the whole fix command', async () => {
    h = await DeployerHarness.start();
    h.fargateProfiles = [];
    const name = `c${'0123456789'.repeat(9)}abcdefghi`;
    expect(name).toHaveLength(100);
    const result = await runDeployer({ ...h.request('fargate'), cluster: name }, settingsFor(), h.deps());
    expect(result.outcome).toBe('failed');
    expect(result.reason?.length).toBeGreaterThan(400);
    expect(result.reason).toContain(`aws eks create-fargate-profile --cluster-name ${name} `);
    expect(result.reason).toMatch(
      / --selectors namespace=falcon-operator namespace=falcon-system namespace=falcon-kac\), then run again$/,
    );
  });
});
