import { describe, expect, it } from 'vitest';
import { EcrSettingsError } from '../../src/ecr/errors.js';
import { parseProperties } from '../../src/ecr/properties.js';

describe('custom resource properties', () => {
  it('reads regions, the disconnect flag (CloudFormation sends strings) and the deployment ID', () => {
    expect(
      parseProperties({
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x',
        DeploymentId: 'prod-1',
        Regions: ['us-west-2', 'us-east-1', 'us-east-1'],
        DisconnectOnDelete: 'true',
        PurgeOnDelete: 'true',
        RepairSchedule: 'rate(12 hours)',
        ConfigHash: 'abc',
      }),
    ).toEqual({
      deploymentId: 'prod-1',
      regions: ['us-east-1', 'us-west-2'],
      disconnectOnDelete: true,
      purgeOnDelete: true,
      schedule: 'rate(12 hours)',
      configHash: 'abc',
    });
  });

  it('defaults: no purge, a daily schedule; a bad PurgeOnDelete or RepairSchedule is named', () => {
    expect(parseProperties({ DeploymentId: 'p' })).toMatchObject({
      purgeOnDelete: false,
      schedule: 'rate(1 day)',
    });
    expect(() =>
      parseProperties({ DeploymentId: 'p', PurgeOnDelete: 'yes', RepairSchedule: 'daily' }),
    ).toThrow(
      /PurgeOnDelete: expected "true" or "false"; RepairSchedule: expected a rate\(...\) or cron\(...\) expression/,
    );
  });

  it('means every enabled region when Regions is absent or empty, and disconnect defaults to false', () => {
    expect(parseProperties({ DeploymentId: 'p' })).toMatchObject({
      regions: 'all',
      disconnectOnDelete: false,
    });
    expect(parseProperties({ DeploymentId: 'p', Regions: [] })).toMatchObject({ regions: 'all' });
    expect(parseProperties({ DeploymentId: 'p', Regions: 'eu-west-1, us-east-1' })).toMatchObject({
      regions: ['eu-west-1', 'us-east-1'],
    });
  });

  it('reports every problem at once', () => {
    expect(() => parseProperties({ Regions: ['nowhere'], DisconnectOnDelete: 'yes' })).toThrow(
      EcrSettingsError,
    );
    expect(() => parseProperties({ Regions: ['nowhere'], DisconnectOnDelete: 'yes' })).toThrow(
      /DeploymentId: .*; Regions: .*; DisconnectOnDelete/,
    );
  });
});
