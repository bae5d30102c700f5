import { describe, expect, it } from 'vitest';
import { readDeployerEnvironment } from '../../src/cluster/environment.js';
import { main } from '../../src/cluster/main.js';
import { PROJECT_ENV, RUN_ENV } from '../../src/eks/run-contract.js';
import { settingsFor } from './harness.js';

const env = (over: Record<string, string> = {}) => ({
  [RUN_ENV.accountId]: '111122223333',
  [RUN_ENV.region]: 'eu-west-1',
  [RUN_ENV.cluster]: 'prod',
  [RUN_ENV.compute]: 'nodes',
  [RUN_ENV.executionRoleArn]: 'arn:aws:iam::111122223333:role/falcon-org-eks-execution',
  [RUN_ENV.runId]: '6f1c2d3e-aaaa-bbbb-cccc-123456789012',
  [RUN_ENV.mode]: 'install',
  [PROJECT_ENV.settings]: JSON.stringify(settingsFor()),
  [PROJECT_ENV.clientId]: 'id',
  [PROJECT_ENV.clientSecret]: 'secret',
  ...over,
});

describe('the deployer’s run environment', () => {
  it('accepts the environment a run is started with', () => {
    expect(readDeployerEnvironment(env()).request).toMatchObject({
      accountId: '111122223333',
      executionRoleArn: 'arn:aws:iam::111122223333:role/falcon-org-eks-execution',
      runId: '6f1c2d3e-aaaa-bbbb-cccc-123456789012',
    });
  });

  it('refuses an execution role of another account than the run’s, or of another partition, before assuming anything', async () => {
    const foreign = env({
      [RUN_ENV.executionRoleArn]: 'arn:aws:iam::999988887777:role/falcon-org-eks-execution',
    });
    expect(() => readDeployerEnvironment(foreign)).toThrow(
      "FALCON_ORG_EXECUTION_ROLE_ARN names a role in account 999988887777, but the run is for account 111122223333; a run only assumes the execution role of its cluster's account",
    );
    expect(() =>
      readDeployerEnvironment(
        env({ [RUN_ENV.executionRoleArn]: 'arn:aws-us-gov:iam::111122223333:role/falcon-org-eks-execution' }),
      ),
    ).toThrow('FALCON_ORG_EXECUTION_ROLE_ARN is in partition aws-us-gov, but the deployment is in aws');

    // The program stops with exit code 2 and nothing wired (no role assumed).
    const lines: string[] = [];
    let wired = false;
    const code = await main(
      foreign,
      (l) => lines.push(l),
      () => {
        wired = true;
        throw new Error('must not wire');
      },
    );
    expect(code).toBe(2);
    expect(wired).toBe(false);
    expect(lines[0]).toContain('names a role in account 999988887777');
  });

  it('never echoes a bad value that may have come from a secret, and checks the run ID', () => {
    const resolvedSecret = '{"ClientId":"abc","ClientSecret":"s3cr3t-value"}';
    let message = '';
    try {
      readDeployerEnvironment(env({ [RUN_ENV.cluster]: resolvedSecret, [RUN_ENV.runId]: resolvedSecret }));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`FALCON_ORG_CLUSTER_NAME is a value of ${resolvedSecret.length} characters`);
    expect(message).toContain(`FALCON_ORG_RUN_ID is a value of ${resolvedSecret.length} characters`);
    expect(message).not.toContain('s3cr3t');
    // Plain mistakes are still shown as typed.
    expect(() => readDeployerEnvironment(env({ [RUN_ENV.region]: 'eu-west' }))).toThrow(
      'FALCON_ORG_CLUSTER_REGION is "eu-west"; expected a region such as eu-west-1',
    );
  });
});
