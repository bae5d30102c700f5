import {
  CreateRepositoryCommand,
  ECRClient,
  RepositoryAlreadyExistsException,
  SetRepositoryPolicyCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureMirrorRepository } from '../../src/cluster/mirror-wiring.js';

const ecrMock = mockClient(ECRClient);

afterEach(() => {
  ecrMock.reset();
});

function policyOf(call: number): {
  Statement: { Action: string[]; Principal: string; Condition: Record<string, Record<string, string>> }[];
} {
  const input = ecrMock.commandCalls(SetRepositoryPolicyCommand)[call]?.args[0].input;
  return JSON.parse(input?.policyText ?? '{}') as ReturnType<typeof policyOf>;
}

describe('the home-account mirror repository', () => {
  it('is created and readable by principals of the organization only, pull actions only', async () => {
    ecrMock.on(CreateRepositoryCommand).resolves({});
    ecrMock.on(SetRepositoryPolicyCommand).resolves({});
    await ensureMirrorRepository(
      new ECRClient({ region: 'us-east-1' }),
      'mirror/falcon-sensor',
      'o-a1b2c3d4e5',
    );
    expect(ecrMock.commandCalls(CreateRepositoryCommand)[0]?.args[0].input.repositoryName).toBe(
      'mirror/falcon-sensor',
    );
    const [statement] = policyOf(0).Statement;
    expect(statement?.Principal).toBe('*');
    expect(statement?.Condition).toEqual({ StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } });
    expect(statement?.Action.sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetDownloadUrlForLayer',
    ]);
  });

  it('gets the policy also when it already existed (a repository made before the policy was set)', async () => {
    ecrMock
      .on(CreateRepositoryCommand)
      .rejects(new RepositoryAlreadyExistsException({ message: 'exists', $metadata: {} }));
    ecrMock.on(SetRepositoryPolicyCommand).resolves({});
    await ensureMirrorRepository(new ECRClient({ region: 'us-east-1' }), 'mirror/falcon-kac', 'o-a1b2c3d4e5');
    expect(ecrMock.commandCalls(SetRepositoryPolicyCommand)).toHaveLength(1);
  });

  it('sets no policy without an organization, and other ECR errors are not swallowed', async () => {
    ecrMock.on(CreateRepositoryCommand).resolves({});
    await ensureMirrorRepository(new ECRClient({ region: 'us-east-1' }), 'mirror/x', undefined);
    expect(ecrMock.commandCalls(SetRepositoryPolicyCommand)).toHaveLength(0);
    ecrMock
      .on(CreateRepositoryCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(
      ensureMirrorRepository(new ECRClient({ region: 'us-east-1' }), 'mirror/x', 'o-a1b2c3d4e5'),
    ).rejects.toThrow('denied');
  });
});
