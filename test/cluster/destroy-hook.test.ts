import {
  BatchGetBuildsCommand,
  BatchGetProjectsCommand,
  CodeBuildClient,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  uninstallClustersOrStop,
  uninstallEksClustersBeforeDestroy,
} from '../../src/cluster/destroy-hook.js';
import { validateConfig } from '../../src/config/load.js';
import { RUN_ENV } from '../../src/eks/run-contract.js';
import { VirtualClock } from './harness.js';

const config = (enabled: boolean) =>
  validateConfig({
    falcon: { cloud: 'us-1', credentials: { source: 'environment' } },
    aws: { partition: 'aws', homeRegion: 'us-east-1' },
    organization: { id: 'o-a1b2c3d4e5', targets: ['r-abcd'] },
    features: { eksProtection: { enabled } },
  });

describe('destroy: uninstall runs first', () => {
  const codeBuild = mockClient(CodeBuildClient);
  const dynamo = mockClient(DynamoDBDocumentClient);
  afterEach(() => {
    codeBuild.reset();
    dynamo.reset();
  });
  const clients = () => ({
    codeBuild: new CodeBuildClient({ region: 'us-east-1' }),
    documentClient: () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  });

  it('does nothing when EKS Protection is off or its project does not exist', async () => {
    const lines: string[] = [];
    expect(
      await uninstallEksClustersBeforeDestroy(config(false), (l) => lines.push(l), clients()),
    ).toBeUndefined();
    expect(codeBuild.calls()).toEqual([]);
    codeBuild
      .on(BatchGetProjectsCommand)
      .resolves({ projects: [], projectsNotFound: ['falcon-org-eks-deployer'] });
    expect(
      await uninstallEksClustersBeforeDestroy(config(true), (l) => lines.push(l), clients()),
    ).toBeUndefined();
    expect(lines).toEqual([
      'EKS deployer project falcon-org-eks-deployer not found; no clusters to uninstall from.',
    ]);
  });

  it('finds the runs table through the project, starts an uninstall build per protected cluster and waits for it', async () => {
    codeBuild.on(BatchGetProjectsCommand).resolves({
      projects: [
        {
          name: 'falcon-org-eks-deployer',
          environment: {
            type: 'LINUX_CONTAINER',
            image: 'x',
            computeType: 'BUILD_GENERAL1_SMALL',
            environmentVariables: [{ name: 'FALCON_ORG_RUNS_TABLE', value: 'runs-table-1' }],
          },
        },
      ],
    });
    const item = {
      pk: '111122223333#eu-west-1#prod',
      accountId: '111122223333',
      region: 'eu-west-1',
      clusterName: 'prod',
      lastRun: { runId: 'r0', mode: 'install', outcome: 'protected' },
    };
    dynamo.on(ScanCommand).resolves({ Items: [item] });
    dynamo.on(UpdateCommand).resolves({});
    let runId = '';
    codeBuild
      .on(StartBuildCommand)
      .callsFake((input: { environmentVariablesOverride: { name: string; value: string }[] }) => {
        runId = input.environmentVariablesOverride.find((v) => v.name === RUN_ENV.runId)?.value ?? '';
        return { build: { id: 'build-1' } };
      });
    codeBuild
      .on(BatchGetBuildsCommand)
      .resolvesOnce({ builds: [{ id: 'build-1', buildStatus: 'IN_PROGRESS' }] })
      .resolves({
        builds: [{ id: 'build-1', buildStatus: 'SUCCEEDED' }],
      });
    dynamo.on(GetCommand).callsFake(() => ({
      Item: { ...item, lastRun: { runId, mode: 'uninstall', outcome: 'uninstalled' } },
    }));
    const lines: string[] = [];

    const results = await uninstallEksClustersBeforeDestroy(
      config(true),
      (l) => lines.push(l),
      clients(),
      new VirtualClock(),
    );

    expect(results).toEqual([
      { accountId: '111122223333', region: 'eu-west-1', cluster: 'prod', status: 'uninstalled' },
    ]);
    const start = codeBuild.commandCalls(StartBuildCommand)[0].args[0].input;
    expect(start.projectName).toBe('falcon-org-eks-deployer');
    expect(start.environmentVariablesOverride).toContainEqual({
      name: RUN_ENV.mode,
      value: 'uninstall',
      type: 'PLAINTEXT',
    });
    expect(dynamo.commandCalls(ScanCommand)[0].args[0].input.TableName).toBe('runs-table-1');
    expect(lines.at(-1)).toBe('  prod (111122223333/eu-west-1): uninstalled');
  });

  it('names the flag that skips the uninstalls when CodeBuild cannot be asked', async () => {
    codeBuild.on(BatchGetProjectsCommand).rejects(new Error('AccessDeniedException: not allowed'));
    await expect(
      uninstallClustersOrStop(config(true), () => undefined, {
        codeBuild: new CodeBuildClient({ region: 'us-east-1' }),
        documentClient: () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      }),
    ).rejects.toThrow(
      /could not run the EKS uninstalls before destroy: AccessDeniedException: not allowed; .*--keep-cluster-sensors/,
    );
  });
});
