import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem } from '../../src/config/errors.js';
import { testConfig } from './helpers.js';

function problems(coverage: Record<string, unknown>): string[] {
  try {
    testConfig({ coverage });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

describe('coverage settings', () => {
  it('default to off, every six hours, 90 days, 16 accounts at once, FalconOrg/Coverage', () => {
    const { coverage } = testConfig();
    expect(coverage).toEqual({
      enabled: false,
      schedule: 'rate(6 hours)',
      retentionDays: 90,
      concurrency: 16,
      hostStaleAfterHours: 24,
      metricNamespace: 'FalconOrg/Coverage',
      readerRoleArns: [],
    });
    expect(coverage.features).toBeUndefined();
  });

  it('accept a full setting', () => {
    const { coverage } = testConfig({
      coverage: {
        enabled: true,
        schedule: 'cron(0 6 * * ? *)',
        retentionDays: 400,
        concurrency: 32,
        features: ['ssmDistributor', 'ecrConnections'],
        metricNamespace: 'Security/Falcon Coverage',
        readerRoleArns: ['arn:aws:iam::111122223333:role/SecurityAudit'],
      },
    });
    expect(coverage.features).toEqual(['ssmDistributor', 'ecrConnections']);
    expect(coverage.schedule).toBe('cron(0 6 * * ? *)');
  });

  it('name the field and the fix for each bad value, all at once', () => {
    expect(
      problems({
        schedule: 'rate(30 minutes)',
        retentionDays: 0,
        concurrency: 65,
        hostStaleAfterHours: 0,
        features: ['ssmDistributor', 'ssmDistributor', 'catalog'],
        metricNamespace: 'AWS/EC2',
        readerRoleArns: ['arn:aws:iam::111122223333:user/alice'],
      }),
    ).toEqual([
      'coverage.schedule: expected a valid schedule: the interval must be at least 60 minutes, got "rate(30 minutes)"',
      'coverage.retentionDays: expected at least 1 day, got 0',
      'coverage.concurrency: expected a whole number from 1 to 64; lower it if member accounts are throttled, got 65',
      'coverage.hostStaleAfterHours: expected at least 1 hour, got 0',
      'coverage.features.2: expected one of ssmDistributor, eksProtection, ecrConnections, got "catalog"',
      'coverage.metricNamespace: expected a CloudWatch namespace: 1-255 letters, digits or . - _ / # : and spaces, not starting with "AWS/", e.g. "FalconOrg/Coverage", got "AWS/EC2"',
      'coverage.readerRoleArns.0: expected an IAM role ARN such as "arn:aws:iam::111122223333:role/SecurityAudit", got "arn:aws:iam::111122223333:user/alice"',
    ]);
  });

  it('hostStaleAfterHours: a whole number of hours from 1', () => {
    expect(testConfig({ coverage: { hostStaleAfterHours: 72 } }).coverage.hostStaleAfterHours).toBe(72);
    expect(problems({ hostStaleAfterHours: 1.5 })).toEqual([
      'coverage.hostStaleAfterHours: expected a whole number of hours, e.g. 24, got 1.5',
    ]);
    expect(problems({ hostStaleAfterHours: '24' })[0]).toMatch(
      /^coverage\.hostStaleAfterHours: expected a whole number of hours, e\.g\. 24/,
    );
  });

  it('refuse duplicates, an empty feature list and a seconds field in cron', () => {
    expect(problems({ features: [] })).toEqual([
      'coverage.features: expected at least one feature; remove the setting to report every enabled feature, got []',
    ]);
    expect(problems({ features: ['ecrConnections', 'ecrConnections'] })).toEqual([
      'coverage.features: expected each feature once, got ["ecrConnections","ecrConnections"]',
    ]);
    expect(problems({ schedule: 'cron(0 0 6 * * ? *)' })[0]).toMatch(
      /^coverage\.schedule: expected a valid schedule: a cron expression has 6 fields/,
    );
    expect(problems({ unknownKey: 1 })[0]).toMatch(/^coverage/);
  });

  it('refuse a reader role of another partition', () => {
    expect(problems({ readerRoleArns: ['arn:aws-us-gov:iam::111122223333:role/Audit'] })).toEqual([
      'coverage.readerRoleArns.0: expected an ARN in partition "aws" (aws.partition), got "arn:aws-us-gov:iam::111122223333:role/Audit"',
    ]);
  });
});
