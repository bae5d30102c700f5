import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { dummyBundlesForAllHandlers, filesUnder, tempDir } from '../infra/helpers.js';
import { capture } from './helpers.js';

interface Template {
  Resources: Record<string, { Type: string }>;
  Parameters?: Record<string, { NoEcho?: boolean }>;
}

const SECRET_MARKER = 'MARKERsynthSecretQwErTy0987654321';
const CLIENT_ID_MARKER = 'MARKERsynthClientId1234567890ab';

let dir: string;
/** Dummy Lambda bundles for every handler: synth needs them to exist, not to work. */
let lambdaDir: string;
beforeAll(() => {
  dir = tempDir('cli-synth');
  lambdaDir = dummyBundlesForAllHandlers();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(lambdaDir, { recursive: true, force: true });
});

describe('falcon-org synth', () => {
  it('writes the root template and the SSM StackSet templates without AWS credentials, and never the Falcon secret', async () => {
    // Prepare: no AWS credentials of any kind; Falcon credentials set to markers.
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) {
      if (name.startsWith('AWS_') || name.startsWith('FALCON_')) delete process.env[name];
    }
    process.env['FALCON_CLIENT_ID'] = CLIENT_ID_MARKER;
    process.env['FALCON_CLIENT_SECRET'] = SECRET_MARKER;
    process.env['AWS_CONFIG_FILE'] = join(dir, 'no-config');
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(dir, 'no-credentials');
    const out = join(dir, 'out');
    const output = capture();
    try {
      // Act
      const code = await run(
        ['synth', '--config', 'examples/organization.yaml', '--out', out, '--lambda-dir', lambdaDir],
        output,
      );
      // Assess
      expect(code, output.stderr.join('\n')).toBe(0);
    } finally {
      process.env = saved;
    }
    const read = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8')) as Template;
    const root = read('falcon-org.template.json');
    const stackSets = Object.values(root.Resources).filter((r) => r.Type === 'AWS::CloudFormation::StackSet');
    expect(stackSets.length).toBeGreaterThanOrEqual(2);
    const role = read('falcon-org-ssm-role.stackset.template.json');
    expect(Object.values(role.Resources).map((r) => r.Type)).toEqual(['AWS::IAM::Role']);
    const association = read('falcon-org-ssm-association.stackset.template.json');
    expect(
      Object.values(association.Resources)
        .map((r) => r.Type)
        .sort(),
    ).toEqual(['AWS::SSM::Association', 'AWS::SecretsManager::Secret']);
    expect(association.Parameters?.['FalconClientSecret']?.NoEcho).toBe(true);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    expect(output.stdout.join('\n')).toContain('falcon-org-ssm-association.stackset.template.json');
    expect(output.stderr.join('\n')).not.toMatch(/not implemented in this version/);
    const eksRoles = read('falcon-org-eks-roles.stackset.template.json');
    expect(Object.values(eksRoles.Resources).map((r) => r.Type)).toEqual(['AWS::IAM::Role']);
    const eksRules = read('falcon-org-eks-rules.stackset.template.json');
    expect(
      Object.values(eksRules.Resources)
        .map((r) => r.Type)
        .sort(),
    ).toEqual(['AWS::Events::Rule', 'AWS::IAM::Role']);
    // The markers appear in no file under DIR and in nothing the command printed.
    const files = filesUnder(out);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const content = readFileSync(file);
      expect(content.includes(SECRET_MARKER), file).toBe(false);
      expect(content.includes(CLIENT_ID_MARKER), file).toBe(false);
    }
    expect([...output.stdout, ...output.stderr].join('\n')).not.toMatch(/MARKER/);
  });

  it('exits 2 with the build hint when a needed Lambda bundle is missing', async () => {
    const output = capture();
    const empty = join(dir, 'no-bundles');
    const args = ['synth', '--config', 'examples/organization.yaml', '--out', join(dir, 'o2')];
    expect(await run([...args, '--lambda-dir', empty], output)).toBe(2);
    expect(output.stderr.join('\n')).toContain('run "npm run build"');
  });

  it('exits 2 without --out', async () => {
    const output = capture();
    expect(await run(['synth', '--config', 'examples/organization.yaml'], output)).toBe(2);
  });
});
