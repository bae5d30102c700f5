import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { OwnershipRecordError } from '../../src/ecr/errors.js';
import type { OwnershipRecord } from '../../src/ecr/ownership.js';
import { SsmOwnershipStore } from '../../src/ecr/ssm-ownership-store.js';

const NAME = '/falcon-org/ecr/prod/connections';
const record: OwnershipRecord = {
  version: 1,
  deploymentId: 'prod',
  accountId: '123456789012',
  desired: { regions: ['us-east-1'], active: true },
  connections: { 'us-east-1': 'abc123' },
  pending: [],
};
const notFound = () => new ParameterNotFound({ message: 'not found', $metadata: {} });

describe('SsmOwnershipStore', () => {
  const ssm = mockClient(SSMClient);
  afterEach(() => ssm.reset());
  const store = () => new SsmOwnershipStore(new SSMClient({ region: 'us-east-1' }), NAME);

  it('writes the record as an overwritable String parameter and reads it back', async () => {
    let stored: string | undefined;
    ssm.on(PutParameterCommand).callsFake((input: { Value: string }) => {
      stored = input.Value;
      return {};
    });
    ssm.on(GetParameterCommand).callsFake(() => ({ Parameter: { Value: stored } }));

    await store().save(record);

    expect(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input).toMatchObject({
      Name: NAME,
      Type: 'String',
      Overwrite: true,
    });
    await expect(store().load()).resolves.toEqual(record);
  });

  it('treats a missing parameter as no record, and deleting a missing one as done', async () => {
    ssm.on(GetParameterCommand).rejects(notFound());
    ssm.on(DeleteParameterCommand).rejects(notFound());
    await expect(store().load()).resolves.toBeUndefined();
    await expect(store().remove()).resolves.toBeUndefined();
  });

  it('refuses a record that is not its format instead of treating it as empty', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"version":1,"deploymentId":"prod"}' } });
    await expect(store().load()).rejects.toThrow(OwnershipRecordError);
    ssm.on(GetParameterCommand).rejects(new Error('AccessDenied'));
    await expect(store().load()).rejects.toThrow(`could not read SSM parameter ${NAME}: AccessDenied`);
  });
});
