import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, loadConfigFile, parseConfigText } from '../../src/config/index.js';
import { problemsIn } from './helpers.js';

const minimal = `
falcon: { cloud: us-1 }
aws: { partition: aws, homeRegion: us-east-1 }
organization: { id: o-a1b2c3d4e5, targets: [r-ab12] }
`;

function problemsOf(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.path);
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('configuration loading', () => {
  it('accepts the shipped example with every feature enabled', async () => {
    const config = await loadConfigFile('examples/organization.yaml');
    expect(Object.values(config.features).every((f) => f.enabled)).toBe(true);
    // The demo synthesizes everything, the coverage report included.
    expect(config.coverage.enabled).toBe(true);
    expect(config.derived.falconBaseUrl).toBe('https://api.crowdstrike.com');
  });

  it('fills defaults for a minimal file', () => {
    const config = parseConfigText(minimal, 'min.yaml');
    expect(config.resourcePrefix).toBe('falcon-org');
    expect(config.features.ssmDistributor).toMatchObject({
      enabled: false,
      maxErrors: '10%',
      maxConcurrency: '20%',
      documentVersion: '$DEFAULT',
      targets: { type: 'all' },
    });
    expect(config.stackSets.regionConcurrency).toBe('PARALLEL');
    expect(config.derived.ssmRegions).toEqual(['us-east-1']);
    expect(config.derived.ecrRegions).toEqual([]);
  });

  it('reports five different mistakes at once, each by its path', () => {
    const paths = problemsOf(`
falcon: { cloud: us-7, cid: nothex }
aws: { partition: aws, homeRegion: us-east-1 }
organization: { id: o-a1b2c3d4e5, targets: [ou-bad] }
features:
  ssmDistributor: { schedule: "cron(nonsense)", maxConcurrency: "lots" }
`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'falcon.cloud',
        'falcon.cid',
        'organization.targets.0',
        'features.ssmDistributor.schedule',
        'features.ssmDistributor.maxConcurrency',
      ]),
    );
    expect(paths).toHaveLength(5);
  });

  it('rejects regions outside the partition', () => {
    expect(problemsOf(minimal.replace('us-east-1', 'us-gov-west-1'))).toEqual(['aws.homeRegion']);
  });

  it('honours an explicit Falcon base URL', () => {
    const config = parseConfigText(
      minimal.replace('{ cloud: us-1 }', '{ cloud: us-gov-1, baseUrl: "http://127.0.0.1:9/" }'),
      'x',
    );
    expect(config.derived.falconBaseUrl).toBe('http://127.0.0.1:9');
    expect(config.derived.govFalconFromCommercialAws).toBe(true);
  });
});

describe('cross-field validation', () => {
  it('reports partition problems together with schema problems', () => {
    const paths = problemsOf(`
falcon: { cloud: nowhere }
aws: { partition: aws-us-gov, homeRegion: us-east-1 }
organization: { id: o-a1b2c3d4e5, targets: [r-ab12] }
permissionsBoundary: arn:aws:iam::123456789012:policy/boundary
features:
  ecrConnections: { regions: [us-gov-west-1, eu-west-1] }
  ssmDistributor: { applyOnlyAtCronInterval: true }
`);
    expect(paths.sort()).toEqual(
      [
        'aws.homeRegion',
        'falcon.cloud',
        'features.ecrConnections.regions.1',
        'features.ssmDistributor.applyOnlyAtCronInterval',
        'permissionsBoundary',
      ].sort(),
    );
  });

  it('names the file when it cannot be read', async () => {
    await expect(loadConfigFile('does/not/exist.yaml')).rejects.toThrow(/--config: expected a readable/);
  });
});

describe('problem messages', () => {
  it('name the field, what was expected and what was given, in plain words', () => {
    const problems = problemsIn(`
${minimal.trim()}
stackSets: { maxConcurrentPercentage: lots, failureTolerancePercentage: 150 }
tags: { "aws:team": x }
`);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, formatProblem(p)]));
    expect(byPath).toEqual({
      'stackSets.maxConcurrentPercentage': 'stackSets.maxConcurrentPercentage: expected a number, got "lots"',
      'stackSets.failureTolerancePercentage':
        'stackSets.failureTolerancePercentage: expected a number at most 100, got 150',
      'tags.aws:team': 'tags.aws:team: expected a tag key not starting with "aws:", got "aws:team"',
    });
  });

  it('suggest the known setting for a misspelt one, at any depth', () => {
    const problems = problemsIn(`
${minimal.trim()}
resoursePrefix: x
features: { ssmDistributor: { schedul: "rate(1 day)", colour: red } }
`);
    expect(problems.map(formatProblem).sort()).toEqual([
      '(top level): expected only known settings; rename "resoursePrefix" to "resourcePrefix" or remove it, got unknown "resoursePrefix"',
      'features.ssmDistributor: expected only known settings; rename "schedul" to "schedule" or remove it; remove "colour", got unknown "schedul", "colour"',
    ]);
  });

  it('say what is missing when Secrets Manager is chosen without a secret, and want the secret in the home region', () => {
    const missing = problemsIn(
      minimal.replace('{ cloud: us-1 }', '{ cloud: us-1, credentials: { source: secretsManager } }'),
    );
    expect(missing.map(formatProblem)).toEqual([
      'falcon.credentials.secretArn: expected the ARN of the existing secret (keys ClientId, ClientSecret) when source is "secretsManager", got nothing',
    ]);
    const elsewhere = problemsIn(
      minimal.replace(
        '{ cloud: us-1 }',
        '{ cloud: us-1, credentials: { source: secretsManager, secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:falcon-AbCdEf" } }',
      ),
    );
    expect(elsewhere.map((p) => [p.path, p.given])).toEqual([
      ['falcon.credentials.secretArn', 'a secret in "eu-west-1"'],
    ]);
    expect(elsewhere[0]?.expected).toContain('"us-east-1"');
  });

  it('refuse an empty SSM or EKS region list and say how to get the home region', () => {
    const problems = problemsIn(
      `${minimal.trim()}\nfeatures: { ssmDistributor: { regions: [] }, eksProtection: { regions: [] } }\n`,
    );
    expect(problems.map(formatProblem)).toEqual([
      'features.ssmDistributor.regions: expected at least one region; remove the setting to use the home region (aws.homeRegion), got []',
      'features.eksProtection.regions: expected at least one region; remove the setting to use the home region (aws.homeRegion), got []',
    ]);
  });

  it('explain how to fix ApplyOnlyAtCronInterval with a rate() schedule', () => {
    const [problem] = problemsIn(
      `${minimal.trim()}\nfeatures: { ssmDistributor: { applyOnlyAtCronInterval: true } }\n`,
    );
    expect(problem && formatProblem(problem)).toBe(
      'features.ssmDistributor.applyOnlyAtCronInterval: expected false unless the schedule is a cron expression (State Manager rejects it with rate()); set a cron() schedule or remove applyOnlyAtCronInterval, got true with schedule "rate(1 day)"',
    );
  });
});

describe('unreadable input', () => {
  it('names the line of a YAML syntax error', () => {
    const problems = problemsIn('falcon: { cloud: us-1\naws: [\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.path).toMatch(/^line \d+$/);
    expect(problems[0]?.expected).toBe('expected valid YAML or JSON (fix the syntax at that line)');
    expect(problems[0]?.given).not.toBe('');
  });
});
