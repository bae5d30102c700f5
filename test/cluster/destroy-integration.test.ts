import { BatchGetProjectsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import { createProgress } from '../../src/deploy/progress.js';
import { runDestroy } from '../../src/deploy/run-destroy.js';
import { ACCOUNT, captureOutput, mockAws, RecordingDeployer, testConfig } from '../deploy/helpers.js';

const aws = mockAws();
const codeBuild = mockClient(CodeBuildClient);
const eksEnabled = () => testConfig('  eksProtection:\n    enabled: true\n');

function deps(deployer: RecordingDeployer) {
  return {
    deployer,
    clients: createHomeClients({ region: 'us-east-1' }),
    env: {},
    progress: createProgress(captureOutput()),
    wait: { sleep: () => Promise.resolve(), initialDelayMs: 1 },
  };
}

describe('destroy runs EKS uninstalls first', () => {
  beforeEach(() => {
    aws.healthy();
    aws.stackSets(['falcon-org-ssm-association']);
    aws.operation([{ account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' }]);
  });
  afterEach(() => {
    aws.reset();
    codeBuild.reset();
  });

  it('stops before deleting anything when the uninstalls cannot run, and names the opt-out', async () => {
    codeBuild
      .on(BatchGetProjectsCommand)
      .rejects(new Error('AccessDeniedException: codebuild:BatchGetProjects'));
    const deployer = new RecordingDeployer();
    await expect(runDestroy(eksEnabled(), { yes: true }, deps(deployer))).rejects.toThrow(
      /--keep-cluster-sensors/,
    );
    expect(deployer.calls).toEqual([]);
  });

  it('with --keep-cluster-sensors destroys even when CodeBuild cannot be asked, and starts no build', async () => {
    codeBuild
      .on(BatchGetProjectsCommand)
      .rejects(new Error('AccessDeniedException: codebuild:BatchGetProjects'));
    const deployer = new RecordingDeployer();
    await runDestroy(eksEnabled(), { yes: true, keepClusterSensors: true }, deps(deployer));
    expect(deployer.calls).toEqual(['destroy']);
    expect(codeBuild.calls().map((c) => c.args[0].constructor.name)).toEqual(['BatchGetProjectsCommand']);
  });
});
