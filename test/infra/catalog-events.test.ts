import { rmSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { buildApp } from '../../src/infra/app.js';
import { CatalogEvents, ECR_IMAGE_ACTION_PATTERN } from '../../src/infra/features/catalog-events.js';
import { nagFindings } from '../../src/infra/nag.js';
import { buildPlan, type TemplateJson } from '../../src/plan/plan.js';
import { resolveJoin, type CfnValue } from './eks-template.js';
import { dummyLambdaDir, tempDir, testConfig, withDummyDeployer } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function catalogApp(catalog: Record<string, unknown>, features: Record<string, unknown> = {}) {
  const outdir = tempDir('catalog');
  const lambdaDir = withDummyDeployer(dummyLambdaDir('eks-discover', 'eks-event'));
  dirs.push(outdir, lambdaDir, `${lambdaDir}/..`);
  const config = testConfig({
    features: {
      ssmDistributor: { enabled: false, regions: ['eu-central-1'] },
      eksProtection: { enabled: true },
      ...features,
    },
    catalog: { ecrEvents: catalog },
  });
  const { rootStack, organization } = buildApp(config, { outdir, lambdaDir });
  return { config, rootStack, organization, root: Template.fromStack(rootStack) };
}

type App = ReturnType<typeof catalogApp>;
let app: App;
let events: CatalogEvents;
let member: Template;
beforeAll(() => {
  app = catalogApp({
    enabled: true,
    regions: ['eu-central-1', 'us-east-1'],
    retentionDays: 7,
    maxReceiveCount: 3,
  });
  const found = app.organization.node.tryFindChild('CatalogEvents');
  if (!(found instanceof CatalogEvents)) throw new Error('CatalogEvents not created');
  events = found;
  member = Template.fromJSON(events.rulesStackSet.memberTemplate);
}, 120_000);

const stackId = (construct: { node: { defaultChild?: unknown } }): string =>
  app.rootStack.getLogicalId(construct.node.defaultChild as never);

describe('catalog.ecrEvents: the home account', () => {
  it('puts ECR image actions from the central bus on an encrypted queue, with retries and a dead-letter queue', () => {
    const busId = app.rootStack.getLogicalId(
      (app.organization.node.findChild('EksProtection').node.findChild('EventBus').node.findChild('Bus').node
        .defaultChild ?? {}) as never,
    );
    app.root.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: {
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        detail: { result: ['SUCCESS'], 'action-type': ['PUSH', 'DELETE'] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [stackId(events.queue), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [stackId(events.deadLetters), 'Arn'] } },
        }),
      ],
    });
    app.root.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 7 * 86_400,
      VisibilityTimeout: 300,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [stackId(events.deadLetters), 'Arn'] },
        maxReceiveCount: 3,
      },
    });
  });

  it('alarms as soon as an event waits in its dead-letter queue', () => {
    app.root.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [stackId(events.deadLetters), 'QueueName'] } },
      ],
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('lets only EventBridge, for this rule, send to the queue, and only over TLS', () => {
    const policies = app.root.findResources('AWS::SQS::QueuePolicy');
    const forQueue = Object.values(policies).find((p) =>
      JSON.stringify((p as { Properties: unknown }).Properties).includes(stackId(events.queue)),
    ) as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } };
    const statements = forQueue.Properties.PolicyDocument.Statement;
    expect(statements.find((s) => s['Effect'] === 'Deny')).toMatchObject({
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const send = statements.find((s) => s['Effect'] === 'Allow');
    expect(send).toMatchObject({
      // CDK's grant for sending: SendMessage with the two reads senders use.
      Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [stackId(events.rule), 'Arn'] } } },
    });
  });

  it('grants a follower what draining the queue needs and nothing else, and says where the queue is', () => {
    app.root.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'fo-test-catalog-follower',
      PolicyDocument: {
        Statement: [
          {
            Sid: 'DrainCatalogQueue',
            Effect: 'Allow',
            Action: [
              'sqs:ReceiveMessage',
              'sqs:DeleteMessage',
              'sqs:ChangeMessageVisibility',
              'sqs:GetQueueAttributes',
            ],
            Resource: { 'Fn::GetAtt': [stackId(events.queue), 'Arn'] },
          },
        ],
      },
    });
    const outputs = app.root.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
    expect(outputs['CatalogEventsQueueUrl']?.Value).toEqual({ Ref: stackId(events.queue) });
    expect(outputs['CatalogFollowerPolicyArn']).toBeDefined();
  });
});

describe('catalog.ecrEvents: every member account and region', () => {
  it('is one StackSet instance per account in each configured region', () => {
    app.root.hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackSetName: 'fo-test-ecr-image-events',
      StackInstancesGroup: [Match.objectLike({ Regions: ['eu-central-1', 'us-east-1'] })],
    });
  });

  it("forwards successful ECR pushes and deletes from the account's default bus to the central bus, with a role allowed that bus only", () => {
    const rules = member.findResources('AWS::Events::Rule');
    const [rule] = Object.values(rules) as { Properties: Record<string, unknown> }[];
    expect(rule?.Properties['EventPattern']).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: { result: ['SUCCESS'], 'action-type': ['PUSH', 'DELETE'] },
    });
    expect(rule?.Properties['EventBusName']).toBeUndefined();
    const refs = { 'AWS::Partition': 'aws', HomeAccountId: '123456789012' };
    const target = (rule?.Properties['Targets'] as { Arn: CfnValue }[])[0];
    expect(resolveJoin(target?.Arn ?? '', refs)).toBe(
      'arn:aws:events:eu-central-1:123456789012:event-bus/fo-test-eks-events',
    );
    const roles = Object.values(member.findResources('AWS::IAM::Role')) as {
      Properties: { Policies: { PolicyDocument: { Statement: { Action: string; Resource: CfnValue }[] } }[] };
    }[];
    expect(roles).toHaveLength(1);
    const statements = roles[0]?.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement) ?? [];
    expect(statements.map((s) => [s.Action, resolveJoin(s.Resource, refs)])).toEqual([
      ['events:PutEvents', 'arn:aws:events:eu-central-1:123456789012:event-bus/fo-test-eks-events'],
    ]);
  });

  it('uses the same pattern as the home rule, so nothing is forwarded that would be dropped', () => {
    expect(ECR_IMAGE_ACTION_PATTERN.detailType).toEqual(['ECR Image Action']);
  });

  it('reports no unacknowledged cdk-nag findings on the root and member stacks', () => {
    for (const stack of [app.rootStack, events.rulesStackSet.memberStack]) {
      expect(nagFindings(stack, 'error'), stack.stackName).toEqual([]);
      expect(nagFindings(stack, 'warning'), stack.stackName).toEqual([]);
    }
  });

  it('shows in the plan as the catalog, with its StackSet and note', () => {
    const root = app.root.toJSON() as TemplateJson;
    const plan = buildPlan({
      rootStackName: app.rootStack.stackName,
      homeRegion: 'eu-central-1',
      rootTemplate: root,
      readMemberTemplate: (file) =>
        file.includes('ecr-image-events') ? events.rulesStackSet.memberTemplate : { Resources: {} },
    });
    const catalog = plan.features.find((f) => f.name === 'catalog');
    expect(catalog?.stackSets.map((s) => [s.name, s.regions])).toEqual([
      ['fo-test-ecr-image-events', ['eu-central-1', 'us-east-1']],
    ]);
    expect(catalog?.notes.join(' ')).toContain('falcon-org catalog follow');
  });
});

describe('catalog.ecrEvents: configuration', () => {
  it('deploys nothing when disabled (the default)', () => {
    const off = catalogApp({});
    expect(off.organization.node.tryFindChild('CatalogEvents')).toBeUndefined();
    expect(
      off.root.findResources('AWS::SQS::Queue', { Properties: { MessageRetentionPeriod: 4 * 86_400 } }),
    ).toEqual({});
  });

  it('defaults its regions to the ECR connections regions, else the home region', () => {
    expect(
      testConfig({
        features: { eksProtection: { enabled: true } },
        catalog: { ecrEvents: { enabled: true } },
      }).derived.catalogEventRegions,
    ).toEqual(['eu-central-1']);
    expect(
      testConfig({
        features: { eksProtection: { enabled: true }, ecrConnections: { regions: ['eu-west-1'] } },
        catalog: { ecrEvents: { enabled: true } },
      }).derived.catalogEventRegions,
    ).toEqual(['eu-west-1']);
  });

  it('refuses ECR events without EKS Protection (whose bus they travel on) and regions of another partition', () => {
    let error: unknown;
    try {
      testConfig({ catalog: { ecrEvents: { enabled: true, regions: ['us-gov-west-1'] } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.path);
    expect(problems).toEqual(
      expect.arrayContaining(['catalog.ecrEvents.enabled', 'catalog.ecrEvents.regions.0']),
    );
  });
});
