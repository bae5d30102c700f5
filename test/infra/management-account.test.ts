/**
 * The management account's member resources: service-managed StackSets never deploy there, so when the
 * root stack is in it and the root is targeted, each StackSet gets a self-managed twin targeting this
 * account only; nothing of it exists from a delegated administrator or with OUs targeted, and with
 * organization.excludeAccounts all of it is created only when this account is not excluded.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../src/infra/app.js';
import { nagFindings } from '../../src/infra/nag.js';
import { dummyBundlesForAllHandlers, tempDir, testConfig } from './helpers.js';

interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, unknown>;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FEATURES = {
  ssmDistributor: { enabled: true, targets: { type: 'tags', tags: { falcon: ['yes'] } } },
  eksProtection: { enabled: true },
  ecrConnections: { enabled: true },
};

function synth(overrides: Record<string, unknown>) {
  const outdir = tempDir('management-account');
  const lambdaDir = dummyBundlesForAllHandlers();
  dirs.push(outdir, lambdaDir);
  const config = testConfig({ features: FEATURES, coverage: { enabled: true }, ...overrides });
  const { rootStack } = buildApp(config, { outdir, lambdaDir });
  const template = rootStack.resolve(Template.fromStack(rootStack).toJSON()) as {
    Resources: Record<string, Resource>;
    Conditions?: Record<string, unknown>;
  };
  const stackSets = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::CloudFormation::StackSet',
  );
  return { rootStack, template, stackSets };
}

describe('the management account', () => {
  it('gets every StackSet as a self-managed twin for this account only, from the root stack in it with the root targeted', () => {
    const { rootStack, template, stackSets } = synth({ organization: { targets: ['r-ab12'] } });
    const organizationWide = stackSets.filter((s) => s.Properties['PermissionModel'] === 'SERVICE_MANAGED');
    const twins = stackSets.filter((s) => s.Properties['PermissionModel'] === 'SELF_MANAGED');
    expect(organizationWide.length).toBeGreaterThan(0);
    // One twin per StackSet (the coverage read role's included), same template, this account only.
    expect(twins.map((t) => t.Properties['StackSetName']).sort()).toEqual(
      organizationWide.map((s) => `${String(s.Properties['StackSetName'])}-management`).sort(),
    );
    expect(twins.map((t) => String(t.Properties['StackSetName']))).toContain(
      'fo-test-coverage-read-management',
    );
    for (const twin of twins) {
      const source = organizationWide.find(
        (s) => `${String(s.Properties['StackSetName'])}-management` === twin.Properties['StackSetName'],
      );
      expect(twin.Properties['TemplateBody'] ?? twin.Properties['TemplateURL']).toEqual(
        source?.Properties['TemplateBody'] ?? source?.Properties['TemplateURL'],
      );
      expect(twin.Properties['StackInstancesGroup']).toEqual([
        {
          DeploymentTargets: { Accounts: [{ Ref: 'AWS::AccountId' }] },
          Regions: (source?.Properties['StackInstancesGroup'] as { Regions: unknown }[])[0]?.Regions,
        },
      ]);
      expect(twin.Properties['ExecutionRoleName']).toBe('fo-test-stackset-execution');
      expect(twin.Condition).toBeUndefined();
    }
    // The administration role is CloudFormation's, for this account's StackSets of this deployment only.
    const roles = Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Role');
    const administration = roles.find((r) => r.Properties['RoleName'] === 'fo-test-stackset-administration');
    expect(JSON.stringify(administration?.Properties['AssumeRolePolicyDocument'])).toContain(
      'cloudformation.amazonaws.com',
    );
    expect(JSON.stringify(administration?.Properties['AssumeRolePolicyDocument'])).toContain(
      ':stackset/fo-test-*',
    );
    expect(roles.some((r) => r.Properties['RoleName'] === 'fo-test-stackset-execution')).toBe(true);
    // Every wildcard of the execution role is acknowledged with its reason: nothing left for cdk-nag.
    expect(nagFindings(rootStack, 'error').filter((f) => f.includes('ManagementAccount'))).toEqual([]);
  });

  it('with organization.excludeAccounts: all of it only when this account is not excluded', () => {
    const { template, stackSets } = synth({
      organization: { targets: ['r-ab12'], excludeAccounts: ['111111111111'] },
    });
    const twins = stackSets.filter((s) => s.Properties['PermissionModel'] === 'SELF_MANAGED');
    expect(twins.length).toBeGreaterThan(0);
    const conditioned = Object.values(template.Resources).filter((r) => r.Condition !== undefined);
    const condition = twins[0]?.Condition ?? '';
    expect(condition).not.toBe('');
    expect(JSON.stringify(template.Conditions?.[condition])).toContain('111111111111');
    for (const twin of twins) expect(twin.Condition).toBe(condition);
    const roles = conditioned.filter((r) => r.Type === 'AWS::IAM::Role');
    expect(roles.map((r) => r.Properties['RoleName']).sort()).toEqual([
      'fo-test-stackset-administration',
      'fo-test-stackset-execution',
    ]);
  });

  it('gets nothing from a delegated administrator, nor with OUs targeted', () => {
    const delegated = synth({
      organization: { targets: ['r-ab12'] },
      aws: { accountType: 'delegatedAdmin' },
    });
    expect(delegated.stackSets.some((s) => s.Properties['PermissionModel'] === 'SELF_MANAGED')).toBe(false);
    const ous = synth({ organization: { targets: ['ou-ab12-11111111'] } });
    expect(ous.stackSets.some((s) => s.Properties['PermissionModel'] === 'SELF_MANAGED')).toBe(false);
    expect(ous.stackSets.length).toBeGreaterThan(0);
  });
});
