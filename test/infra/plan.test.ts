import { describe, expect, it } from 'vitest';
import { ROOT_METADATA_KEY, STACKSET_METADATA_KEY } from '../../src/infra/metadata.js';
import { buildPlan, type TemplateJson } from '../../src/plan/plan.js';
import { renderPlan } from '../../src/plan/render.js';

const stackSet = (name: string, scope: string, regions: string[], file: string, excluded?: string[]) => ({
  Type: 'AWS::CloudFormation::StackSet',
  Properties: {
    StackSetName: name,
    CallAs: 'SELF',
    StackInstancesGroup: [
      {
        Regions: regions,
        DeploymentTargets: {
          OrganizationalUnitIds: ['r-ab12'],
          ...(excluded ? { AccountFilterType: 'DIFFERENCE', Accounts: excluded } : {}),
        },
      },
    ],
  },
  Metadata: {
    [STACKSET_METADATA_KEY]: {
      feature: 'ssmDistributor',
      scope,
      regions,
      templateFile: file,
      description: name,
    },
  },
});

const root: TemplateJson = {
  Metadata: {
    [ROOT_METADATA_KEY]: {
      features: {
        ssmDistributor: 'deployed',
        eksProtection: 'disabled',
        ecrConnections: 'not implemented in this version',
      },
    },
  },
  Resources: {
    Bucket: { Type: 'AWS::S3::Bucket' },
    Roles: stackSet('roles', 'account', ['us-east-1'], 'roles.json'),
    Assoc: stackSet('assoc', 'account-region', ['us-east-1', 'eu-west-1'], 'assoc.json', ['111111111111']),
  },
};

const members: Record<string, TemplateJson> = {
  'roles.json': { Resources: { R: { Type: 'AWS::IAM::Role' } } },
  'assoc.json': {
    Resources: { S: { Type: 'AWS::SecretsManager::Secret' }, A: { Type: 'AWS::SSM::Association' } },
  },
};

describe('buildPlan', () => {
  const plan = buildPlan({
    rootStackName: 'demo',
    homeRegion: 'us-east-1',
    rootTemplate: root,
    readMemberTemplate: (file) => {
      const t = members[file];
      if (!t) throw new Error(`unexpected file ${file}`);
      return t;
    },
  });

  it('reads each StackSet with its targets, exclusions, regions and member resources', () => {
    const ssm = plan.features.find((f) => f.name === 'ssmDistributor');
    expect(ssm?.stackSets.map((s) => [s.name, s.scope, s.regions, s.targets, s.resourcesPerAccount])).toEqual(
      [
        ['roles', 'account', ['us-east-1'], { organizationalUnitIds: ['r-ab12'], excludedAccounts: [] }, 1],
        [
          'assoc',
          'account-region',
          ['us-east-1', 'eu-west-1'],
          { organizationalUnitIds: ['r-ab12'], excludedAccounts: ['111111111111'] },
          4,
        ],
      ],
    );
    expect(ssm?.resourcesPerAccount).toBe(5);
  });

  it('reports feature status from the root metadata and totals per account and region', () => {
    expect(plan.features.map((f) => [f.name, f.status])).toEqual([
      ['ssmDistributor', 'deployed'],
      ['eksProtection', 'disabled'],
      ['ecrConnections', 'not implemented in this version'],
    ]);
    expect(plan.totals).toEqual({
      stackSets: 2,
      rootResources: 3,
      resourcesPerAccount: 5,
      resourcesPerAccountByRegion: { 'us-east-1': 3, 'eu-west-1': 2 },
    });
  });

  it('renders a readable report', () => {
    const text = renderPlan(plan);
    expect(text).toContain('Root stack demo (home region us-east-1): 3 resources');
    expect(text).toContain('StackSet assoc (account-region, call as SELF)');
    expect(text).toContain('2 resources per account and region; 4 per account');
    // An account-scoped StackSet says its count once.
    expect(text).toMatch(/StackSet roles \(account, call as SELF\)\n(?:.*\n){2} {4}1 resource per account\n/);
    expect(text).toContain('Feature ecrConnections: not implemented in this version');
    expect(text).toContain('per account and region: us-east-1 3, eu-west-1 2');
  });
});
