import { rmSync } from 'node:fs';
import { Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { buildApp } from '../../src/infra/app.js';
import { nagFindings } from '../../src/infra/nag.js';
import { OrgStackSet } from '../../src/infra/org-stackset.js';
import { dummyBundlesForAllHandlers, dummyLambdaDir, tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Root and member stacks of a full app, with a Lambda bundle requested so the upload handler exists too. */
function everyStack(overrides: Record<string, unknown> = {}) {
  const outdir = tempDir('nag');
  const lambdaDir = dummyLambdaDir('ecr-connect');
  dirs.push(outdir, lambdaDir);
  const { rootStack, organization } = buildApp(testConfig(overrides), { outdir, lambdaDir });
  organization.artifacts.codeFor('ecr-connect');
  const members = organization.node
    .findAll()
    .filter((c): c is OrgStackSet => c instanceof OrgStackSet)
    .map((s) => s.memberStack);
  return { rootStack, members };
}

function acknowledgments(scope: IConstruct): [string, unknown][] {
  return scope.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, unknown>));
}

const variants: [string, Record<string, unknown>][] = [
  ['environment credentials, permissions boundary', { permissionsBoundary: 'org-boundary' }],
  [
    'SSM tag targets (resource group, group listing)',
    { features: { ssmDistributor: { targets: { type: 'tags', tags: { falcon: ['yes'] } } } } },
  ],
  [
    'Secrets Manager credentials, delegated admin',
    {
      aws: { accountType: 'delegatedAdmin' },
      falcon: {
        credentials: {
          source: 'secretsManager',
          secretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-AbCdEf',
        },
      },
    },
  ],
];

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged errors or warnings for the shipped example (every feature)', async () => {
    const config = await loadConfigFile('examples/organization.yaml');
    const outdir = tempDir('nag');
    const lambdaDir = dummyBundlesForAllHandlers();
    dirs.push(outdir, lambdaDir);
    const { rootStack, organization } = buildApp(config, { outdir, lambdaDir });
    const members = organization.node
      .findAll()
      .filter((c): c is OrgStackSet => c instanceof OrgStackSet)
      .map((s) => s.memberStack);
    expect(members.length).toBeGreaterThanOrEqual(2);
    for (const stack of [rootStack, ...members]) {
      expect(nagFindings(stack, 'error'), stack.stackName).toEqual([]);
      expect(nagFindings(stack, 'warning'), stack.stackName).toEqual([]);
    }
  });

  it.each(variants)('reports no unacknowledged errors or warnings on root and member stacks (%s)', (_, o) => {
    const { rootStack, members } = everyStack(o);
    expect(members).toHaveLength(2);
    for (const stack of [rootStack, ...members]) {
      expect(nagFindings(stack, 'error'), stack.stackName).toEqual([]);
      expect(nagFindings(stack, 'warning'), stack.stackName).toEqual([]);
    }
  });

  it('carries a reason with every acknowledgment', () => {
    const { rootStack, members } = everyStack();
    const acks = [rootStack, ...members].flatMap(acknowledgments);
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) {
      expect(typeof reason, id).toBe('string');
      expect((reason as string).length, id).toBeGreaterThan(30);
    }
  });

  it('finds the problems it is meant to find (the check is not a no-op)', () => {
    const { rootStack } = everyStack();
    // An unencrypted, unlogged bucket without acknowledgments must be reported.
    new Bucket(rootStack, 'Careless');
    expect(nagFindings(rootStack, 'error').some((f) => f.includes('/Careless/'))).toBe(true);
  });
});
