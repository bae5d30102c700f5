import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { tempDir } from '../infra/helpers.js';
import { capture } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('cli-validate');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('falcon-org validate', () => {
  it('accepts the shipped example (exit 0)', async () => {
    const output = capture();
    expect(await run(['validate', '--config', 'examples/organization.yaml'], output)).toBe(0);
    expect(output.stdout.join('\n')).toContain('valid');
  });

  it('warns when EKS protection would copy the shared Falcon client into every cluster, and stays valid (exit 0)', async () => {
    const base = [
      'falcon: { cloud: us-1 }',
      'aws: { partition: aws, homeRegion: us-east-1 }',
      'organization: { id: o-a1b2c3d4e5, targets: [r-abcd] }',
      'features:',
      '  eksProtection: { enabled: true }',
      '',
    ];
    const shared = join(dir, 'shared-client.yaml');
    writeFileSync(shared, base.join('\n'));
    const output = capture();
    expect(await run(['validate', '--config', shared], output)).toBe(0);
    expect(output.stderr.join('\n')).toContain(
      'warning: features.eksProtection: copies the shared Falcon API client (falcon.credentials) into a Secret on every cluster',
    );
    const json = capture();
    expect(await run(['validate', '--config', shared, '--json'], json)).toBe(0);
    expect((JSON.parse(json.stdout.join('')) as { warnings: string[] }).warnings).toHaveLength(1);

    const own = join(dir, 'own-client.yaml');
    writeFileSync(
      own,
      [...base.slice(0, 1), '  # the clusters get their own', ...base.slice(1)]
        .join('\n')
        .replace(
          'falcon: { cloud: us-1 }',
          'falcon: { cloud: us-1, clients: { eksProtection: { source: environment } } }',
        ),
    );
    const quiet = capture();
    expect(await run(['validate', '--config', own], quiet)).toBe(0);
    expect(quiet.stderr.join('\n')).not.toContain('warning');
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

  it('warns on a retired document version but stays valid (exit 0), in text and JSON', async () => {
    const file = join(dir, 'retired.yaml');
    writeFileSync(
      file,
      [
        'falcon: { cloud: us-1 }',
        'aws: { partition: aws, homeRegion: us-east-1 }',
        'organization: { id: o-a1b2c3d4e5, targets: [r-ab12] }',
        "features: { ssmDistributor: { enabled: true, documentVersion: '2' } }",
        '',
      ].join('\n'),
    );
    const output = capture();
    expect(await run(['validate', '--config', file], output)).toBe(0);
    expect(output.stdout.join('\n')).toContain('valid');
    expect(output.stderr.join('\n')).toMatch(
      /^warning: features\.ssmDistributor\.documentVersion: version 2 of CrowdStrike-FalconSensorDeploy is retired by CrowdStrike .*remove the setting to use "\$DEFAULT"/m,
    );
    const json = capture();
    expect(await run(['validate', '--config', file, '--json'], json)).toBe(0);
    const parsed = JSON.parse(json.stdout.join('')) as { valid: boolean; warnings: { path: string }[] };
    expect(parsed.valid).toBe(true);
    expect(parsed.warnings.map((w) => w.path)).toEqual(['features.ssmDistributor.documentVersion']);
    // The shipped example ($DEFAULT) has none.
    const example = capture();
    expect(await run(['validate', '--config', 'examples/organization.yaml'], example)).toBe(0);
    expect(example.stderr.join('\n')).not.toContain('warning:');
  });
});
