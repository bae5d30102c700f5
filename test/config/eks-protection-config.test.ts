import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';

const base = {
  falcon: { cloud: 'us-1' },
  aws: { partition: 'aws', homeRegion: 'us-east-1' },
  organization: { id: 'o-a1b2c3d4e5', targets: ['r-ab12'] },
};

function withEks(eks: Record<string, unknown>, aws: Record<string, unknown> = {}) {
  return { ...base, aws: { ...base.aws, ...aws }, features: { eksProtection: { enabled: true, ...eks } } };
}

function problems(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('features.eksProtection settings', () => {
  it('defaults: home region, configured regions only, daily discovery, 50 at once, 2 h lock, no trail', () => {
    const config = validateConfig(withEks({}), 'test');
    expect(config.features.eksProtection).toMatchObject({
      enabled: true,
      discoverEnabledRegions: false,
      schedule: 'rate(1 day)',
      concurrency: 50,
      lockTtlMinutes: 120,
      createOrganizationTrail: false,
    });
    expect(config.derived.eksRegions).toEqual(['us-east-1']);
  });

  it('resolves the configured regions', () => {
    const config = validateConfig(withEks({ regions: ['eu-west-1', 'us-west-2'] }), 'test');
    expect(config.derived.eksRegions).toEqual(['eu-west-1', 'us-west-2']);
  });

  it('names the field, what is expected and what was given', () => {
    expect(
      problems(
        withEks({
          concurrency: 0,
          lockTtlMinutes: 10,
          schedule: 'rate(5 minutes)',
          createOrganizationTrail: 'yes',
        }),
      ).sort(),
    ).toEqual([
      'features.eksProtection.concurrency: expected a whole number from 1 to 500, got 0',
      'features.eksProtection.createOrganizationTrail: expected a boolean, got "yes"',
      'features.eksProtection.lockTtlMinutes: expected a whole number from 45 to 1440, got 10',
      expect.stringMatching(
        /^features\.eksProtection\.schedule: expected a valid schedule: .*60 minutes.*, got "rate\(5 minutes\)"$/,
      ),
    ]);
    expect(problems(withEks({ minKubernetesVersion: 'v1.28' }))).toEqual([
      'features.eksProtection.minKubernetesVersion: expected a Kubernetes minor version such as "1.28", got "v1.28"',
    ]);
    expect(problems(withEks({ concurrency: 1000 }))).toEqual([
      'features.eksProtection.concurrency: expected a whole number from 1 to 500; lower it if member accounts are throttled, got 1000',
    ]);
    expect(problems(withEks({ regions: ['us-gov-west-1'] }))).toEqual([
      expect.stringMatching(
        /^features\.eksProtection\.regions\.0: expected a region of the .* partition "aws"/,
      ),
    ]);
  });

  it("keeps every run inside its lock: the build (lock minus 15 minutes) must hold the deployer's waits", () => {
    // Default deadlines: 1800 + 180 + 120 + 300 + 900 s = 55 minutes of waits, 5 of work, 15 of queue and margin.
    expect(problems(withEks({ lockTtlMinutes: 74 }))).toEqual([
      "features.eksProtection.lockTtlMinutes: expected at least 75: a run's build (lock minus 15 minutes) must hold the deployer's waits (features.eksProtection.deployer.deadlines, 55 minutes one after the other) and its work, or a second run could start while the first still works; raise lockTtlMinutes or shorten the deadlines, got 74 (a build of 59 minutes)",
    ]);
    expect(
      validateConfig(withEks({ lockTtlMinutes: 75 }), 'test').features.eksProtection.lockTtlMinutes,
    ).toBe(75);
    const shorter = {
      lockTtlMinutes: 45,
      deployer: { deadlines: { clusterActiveSeconds: 600, sensorsReadySeconds: 300 } },
    };
    expect(validateConfig(withEks(shorter), 'test').features.eksProtection.lockTtlMinutes).toBe(45);
    // Only checked where it matters.
    expect(
      validateConfig({ ...base, features: { eksProtection: { lockTtlMinutes: 45 } } }, 'test'),
    ).toBeDefined();
  });

  it('refuses an organization trail from a delegated administrator, and says what to do instead', () => {
    expect(problems(withEks({ createOrganizationTrail: true }, { accountType: 'delegatedAdmin' }))).toEqual([
      'features.eksProtection.createOrganizationTrail: expected false when aws.accountType is "delegatedAdmin" (an organization trail created by a delegated administrator belongs to the management account); create the trail from the management account, or remove the setting if one already logs management events, got true',
    ]);
    expect(
      validateConfig(withEks({ createOrganizationTrail: true }), 'test').features.eksProtection
        .createOrganizationTrail,
    ).toBe(true);
  });
});
