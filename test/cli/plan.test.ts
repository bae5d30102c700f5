import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import type { Plan } from '../../src/plan/plan.js';
import { dummyBundlesForAllHandlers, tempDir } from '../infra/helpers.js';
import { capture } from './helpers.js';

let dir: string;
/** Dummy Lambda bundles for every handler: plan needs them to exist, not to work. */
let lambdaDir: string;
beforeAll(() => {
  dir = tempDir('cli-plan');
  lambdaDir = dummyBundlesForAllHandlers();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(lambdaDir, { recursive: true, force: true });
});

describe('falcon-org validate', () => {
  it('accepts the shipped example (exit 0)', async () => {
    const output = capture();
    expect(await run(['validate', '--config', 'examples/organization.yaml'], output)).toBe(0);
    expect(output.stdout.join('\n')).toContain('valid');
  });

  it('names all five mistakes of a broken configuration at once (exit 2, no stack trace)', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      [
        'falcon: { cloud: us-7 }',
        'aws: { partition: aws, homeRegion: mars-north-1 }',
        'organization: { id: o-a1b2c3d4e5, targets: [ou-bad] }',
        'features:',
        '  ssmDistributor: { enabled: true, maxErrors: lots, documentVersion: "v2" }',
        '',
      ].join('\n'),
    );
    const output = capture();
    expect(await run(['validate', '--config', file], output)).toBe(2);
    const text = output.stderr.join('\n');
    expect(text).toContain('5 problems');
    // Each problem on its own line: the field, what was expected, what was given.
    for (const [path, given] of [
      ['falcon.cloud', '"us-7"'],
      ['aws.homeRegion', '"mars-north-1"'],
      ['organization.targets.0', '"ou-bad"'],
      ['features.ssmDistributor.maxErrors', '"lots"'],
      ['features.ssmDistributor.documentVersion', '"v2"'],
    ]) {
      const line = text.split('\n').find((l) => l.includes(`- ${path}: `));
      expect(line, path).toMatch(
        new RegExp(`: expected .+, got ${given.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      );
    }
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('rejects ParameterStore secret storage with the field and the fix', async () => {
    const file = join(dir, 'parameter-store.yaml');
    writeFileSync(
      file,
      [
        'falcon: { cloud: us-1 }',
        'aws: { partition: aws, homeRegion: us-east-1 }',
        'organization: { id: o-a1b2c3d4e5, targets: [r-ab12] }',
        'features: { ssmDistributor: { enabled: true, secretStorage: ParameterStore } }',
        '',
      ].join('\n'),
    );
    const output = capture();
    expect(await run(['validate', '--config', file], output)).toBe(2);
    expect(output.stderr.join('\n')).toMatch(/features\.ssmDistributor\.secretStorage: .*"SecretsManager"/);
  });
});

describe('falcon-org plan', () => {
  it('prints per feature the StackSets, targets, regions and resources with totals as JSON', async () => {
    const output = capture();
    expect(
      await run(
        ['plan', '--config', 'examples/organization.yaml', '--json', '--lambda-dir', lambdaDir],
        output,
      ),
    ).toBe(0);
    const plan = JSON.parse(output.stdout.join('')) as Plan;
    expect(plan.rootStack).toMatchObject({ name: 'falcon-org', region: 'us-east-1' });
    expect(plan.rootStack.resources.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'AWS::S3::Bucket',
        'AWS::SecretsManager::Secret',
        'AWS::CloudFormation::StackSet',
      ]),
    );
    const ssm = plan.features.find((f) => f.name === 'ssmDistributor');
    expect(ssm?.status).toBe('deployed');
    expect(ssm?.stackSets.map((s) => [s.name, s.scope, s.regions, s.callAs])).toEqual([
      ['falcon-org-ssm-role', 'account', ['us-east-1'], 'DELEGATED_ADMIN'],
      [
        'falcon-org-ssm-association',
        'account-region',
        ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1'],
        'DELEGATED_ADMIN',
      ],
    ]);
    for (const s of ssm?.stackSets ?? []) {
      expect(s.targets).toEqual({
        organizationalUnitIds: ['ou-ab12-11111111', 'ou-ab12-22222222'],
        excludedAccounts: ['111111111111'],
      });
    }
    expect(ssm?.stackSets[0]?.resources.map((r) => r.type)).toEqual(['AWS::IAM::Role']);
    expect(ssm?.stackSets[1]?.resources.map((r) => r.type).sort()).toEqual([
      'AWS::SSM::Association',
      'AWS::SecretsManager::Secret',
    ]);
    expect(ssm?.resourcesPerAccount).toBe(1 + 2 * 4);
    expect(plan.features.find((f) => f.name === 'eksProtection')?.status).toBe(
      'not implemented in this version',
    );
    // Totals add up over every feature (other features contribute their own StackSets).
    const all = plan.features.flatMap((f) => f.stackSets);
    expect(plan.totals.stackSets).toBe(all.length);
    expect(plan.totals.rootResources).toBe(plan.rootStack.resources.length);
    expect(plan.totals.resourcesPerAccount).toBe(all.reduce((n, s) => n + s.resourcesPerAccount, 0));
    const byRegion = plan.totals.resourcesPerAccountByRegion;
    expect(Object.values(byRegion).reduce((a, b) => a + b, 0)).toBe(plan.totals.resourcesPerAccount);
    expect(byRegion['us-east-2']).toBeGreaterThanOrEqual(2);
  });

  it('prints a readable report by default, progress on stderr', async () => {
    const output = capture();
    expect(
      await run(['plan', '--config', 'examples/organization.yaml', '--lambda-dir', lambdaDir], output),
    ).toBe(0);
    const text = output.stdout.join('\n');
    expect(text).toContain('StackSet falcon-org-ssm-association (account-region, call as DELEGATED_ADMIN)');
    expect(text).toContain('excluded: 111111111111');
    expect(text).toContain('eksProtection: not implemented in this version');
    expect(text).toMatch(
      /Totals: \d+ StackSets, \d+ resources in the root stack, \d+ resources in each targeted account/,
    );
    expect(text).toContain('ssmDistributor total: 9 resources per account');
    expect(output.stderr.join('\n')).toContain('synthesizing');
  });

  it('exits 2 for a missing configuration file', async () => {
    const output = capture();
    expect(await run(['plan', '--config', join(dir, 'nope.yaml')], output)).toBe(2);
    expect(output.stderr.join('\n')).toContain('the file does not exist');
  });
});
