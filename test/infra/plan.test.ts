import { describe, expect, it } from 'vitest';
import { ROOT_METADATA_KEY, STACKSET_METADATA_KEY } from '../../src/infra/metadata.js';
import { buildPlan, type TemplateJson } from '../../src/plan/plan.js';
import { renderPlan } from '../../src/plan/render.js';
import { rolloutOf } from '../../src/plan/rollout.js';

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

describe('plan: rollout and what destroy leaves', () => {
  const ecrSet = {
    ...stackSet('fo-ecr-connections', 'account', ['us-east-1'], 'ecr.json'),
    Metadata: {
      [STACKSET_METADATA_KEY]: {
        feature: 'ecrConnections',
        scope: 'account',
        regions: ['us-east-1'],
        templateFile: 'ecr.json',
        description: 'ecr',
      },
    },
  };
  const withPreferences = (set: ReturnType<typeof stackSet>, preferences: Record<string, unknown>) => ({
    ...set,
    Properties: { ...set.Properties, OperationPreferences: preferences },
  });
  const build = (preferences: Record<string, unknown>, ecrMember: TemplateJson) =>
    buildPlan({
      rootStackName: 'fo',
      homeRegion: 'us-east-1',
      rootTemplate: {
        Resources: {
          Roles: withPreferences(stackSet('fo-roles', 'account', ['us-east-1'], 'roles.json'), preferences),
          Ecr: { ...withPreferences(ecrSet, preferences), Metadata: ecrSet.Metadata },
        },
      },
      readMemberTemplate: (file) => (file === 'ecr.json' ? ecrMember : (members[file] ?? {})),
    });
  const ecrMember: TemplateJson = {
    Resources: {
      ConnectLogs1234: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain' },
      ConnectFn: { Type: 'AWS::Lambda::Function', DeletionPolicy: 'Delete' },
      Connections: { Type: 'Custom::FalconEcrConnections', Properties: { DisconnectOnDelete: 'false' } },
    },
  };

  it('says what the failure tolerance means, in accounts per region, and how failures are reported', () => {
    const plan = build(
      {
        MaxConcurrentPercentage: 25,
        FailureTolerancePercentage: 20,
        RegionConcurrencyType: 'PARALLEL',
        ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
      },
      ecrMember,
    );
    expect(plan.rollout).toMatchObject({
      maxConcurrentPercentage: 25,
      failureTolerancePercentage: 20,
      concurrencyMode: 'SOFT_FAILURE_TOLERANCE',
    });
    const text = renderPlan(plan);
    expect(text).toContain(
      'Rollout: 25% of accounts at once, failure tolerance 20%, SOFT_FAILURE_TOLERANCE, regions PARALLEL',
    );
    expect(text).toContain('rounded down to whole accounts (1 of 5, 2 of 10, 20 of 100)');
    expect(text).toContain('one more stops the operation in that region and fails the StackSet');
    expect(text).toContain('"falcon-org deploy" names each with its region and reason and exits 1');
    // A tolerance of 0 is spelled out as what it is.
    expect(rolloutOf({ FailureTolerancePercentage: 0, MaxConcurrentPercentage: 25 }).explanation[1]).toMatch(
      /^Failure tolerance 0%: one account that cannot take its stack instance stops the operation/,
    );
    expect(rolloutOf({ MaxConcurrentPercentage: 25 }).explanation[0]).toContain('STRICT_FAILURE_TOLERANCE');
  });

  it('lists what destroy leaves behind: retained resources, the ECR ownership record, connections in Falcon', () => {
    const plan = build({ FailureTolerancePercentage: 20 }, ecrMember);
    expect(plan.afterDestroy).toEqual([
      'AWS::Logs::LogGroup ConnectLogs1234 in each account (StackSet fo-ecr-connections): retained; its name starts with StackSet-fo-ecr-connections-',
      'Falcon registry connections this deployment made stay in Falcon (features.ecrConnections.disconnectOnDelete: false)',
      expect.stringMatching(
        /^SSM parameter \/fo\/ecr-connections\/ownership in each account: the ECR ownership record/,
      ),
      expect.stringMatching(
        /^SSM parameter \/fo\/ecr-connections\/ownership-lease in each account: the lease/,
      ),
      '"falcon-org destroy --purge" removes the ECR ownership and lease parameters and the log group with the stack.',
    ]);
    expect(renderPlan(plan)).toContain(
      'Left behind by "falcon-org destroy":\n  - AWS::Logs::LogGroup ConnectLogs1234',
    );
    // With disconnectOnDelete: true the Delete removes the connections and then the record: neither stays.
    const disconnecting = build(
      { FailureTolerancePercentage: 20 },
      {
        ...ecrMember,
        Resources: {
          ...ecrMember.Resources,
          Connections: { Type: 'Custom::FalconEcrConnections', Properties: { DisconnectOnDelete: 'true' } },
        },
      },
    ).afterDestroy;
    expect(disconnecting).toEqual([
      'AWS::Logs::LogGroup ConnectLogs1234 in each account (StackSet fo-ecr-connections): retained; its name starts with StackSet-fo-ecr-connections-',
      expect.stringMatching(
        /^Falcon registry connections this deployment made are removed by each ECR Delete, and then its ownership record \/fo\/ecr-connections\/ownership /,
      ),
      expect.stringMatching(
        /^SSM parameter \/fo\/ecr-connections\/ownership-lease in each account: the lease/,
      ),
      '"falcon-org destroy --purge" removes the ECR ownership and lease parameters and the log group with the stack.',
    ]);
    // Nothing retained, no ECR: nothing to say.
    expect(
      buildPlan({
        rootStackName: 'fo',
        homeRegion: 'us-east-1',
        rootTemplate: root,
        readMemberTemplate: (file) => members[file] ?? {},
      }).afterDestroy,
    ).toEqual([]);
  });
});
