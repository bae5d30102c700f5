import * as cdk from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ECR_IMAGE_ACTION } from '../../catalog/events/ecr-events.js';
import { memberParameter, OrgStackSet } from '../org-stackset.js';
import { addPlanNote } from '../plan-notes.js';
import type { CentralBus } from './eks/event-bus.js';
import { ForwardingRule } from './eks/forwarding-rule.js';
import { eksNames } from '../../config/names.js';
import { eventBusArn } from './eks/names.js';
import { encryptedQueue } from './eks/queues.js';
import type { FeatureContext } from './feature.js';

/**
 * The ECR image actions the catalog follows, as EventBridge sees them. Member rules and the central
 * bus's rule use the same pattern, so nothing is forwarded that the home rule would drop.
 */
export const ECR_IMAGE_ACTION_PATTERN: events.EventPattern = {
  source: ['aws.ecr'],
  detailType: [ECR_IMAGE_ACTION],
  detail: { result: ['SUCCESS'], 'action-type': ['PUSH', 'DELETE'] },
};

/** Member template parameter: the home account, whose central bus the member rules put on. */
export const CATALOG_MEMBER_PARAMETERS = { homeAccountId: 'HomeAccountId' } as const;
/** Attempts EventBridge makes to put an event on the queue before it goes to the dead-letter queue. */
export const CATALOG_EVENT_RETRY_ATTEMPTS = 8;
/** How long a received event stays hidden from other followers (a round of lookups and one commit). */
export const CATALOG_QUEUE_VISIBILITY = cdk.Duration.minutes(5);

export interface CatalogEventsProps {
  readonly context: FeatureContext;
  /** EKS Protection's central bus (organization principals only may put on it). */
  readonly bus: CentralBus;
}

/**
 * The registry catalog's ECR events (`catalog.ecrEvents`): in every member account and configured
 * region, a rule forwards ECR's "ECR Image Action" events (pushes and deletes that succeeded) to
 * EKS Protection's central bus, with a role that may put on that bus alone; in the home account, a
 * rule on the bus puts them on an encrypted queue (with dead-letter queues for events EventBridge
 * cannot deliver and for messages no follower could apply) that `falcon-org catalog follow` drains.
 * A managed policy grants a follower what it needs on the queue.
 *
 * @example
 * new CatalogEvents(organization, 'CatalogEvents', { context: organization, bus: eksProtection.bus });
 */
export class CatalogEvents extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly rule: events.Rule;
  readonly rulesStackSet: OrgStackSet;
  readonly followerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: CatalogEventsProps) {
    super(scope, id);
    const { config } = props.context;
    const settings = config.catalog.ecrEvents;
    const prefix = config.resourcePrefix;
    const busName = eksNames(config).eventBus;

    this.deadLetters = encryptedQueue(this, 'DeadLetters', { retentionPeriod: cdk.Duration.days(14) });
    this.queue = encryptedQueue(this, 'Queue', {
      retentionPeriod: cdk.Duration.days(settings.retentionDays),
      visibilityTimeout: CATALOG_QUEUE_VISIBILITY,
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: settings.maxReceiveCount },
    });
    this.rule = new events.Rule(this, 'ImageActions', {
      eventBus: props.bus.bus,
      description: 'falcon-org: ECR image pushes and deletes from member accounts to the catalog queue',
      eventPattern: ECR_IMAGE_ACTION_PATTERN,
    });
    this.rule.addTarget(
      new targets.SqsQueue(this.queue, {
        retryAttempts: CATALOG_EVENT_RETRY_ATTEMPTS,
        maxEventAge: cdk.Duration.hours(24),
        deadLetterQueue: this.deadLetters,
      }),
    );

    this.followerPolicy = new iam.ManagedPolicy(this, 'FollowerPolicy', {
      managedPolicyName: `${prefix}-catalog-follower`,
      description: 'falcon-org: what `falcon-org catalog follow` needs on the catalog queue',
      statements: [
        new iam.PolicyStatement({
          sid: 'DrainCatalogQueue',
          actions: [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueAttributes',
          ],
          resources: [this.queue.queueArn],
        }),
      ],
    });

    const homeParameter = {
      [CATALOG_MEMBER_PARAMETERS.homeAccountId]: {
        value: cdk.Aws.ACCOUNT_ID,
        description: "The home account: EKS Protection's central event bus",
        allowedPattern: '^\\d{12}$',
      },
    };
    this.rulesStackSet = new OrgStackSet(this, 'RulesStackSet', {
      config,
      feature: 'catalog',
      stackSetName: `${prefix}-ecr-image-events`,
      description:
        'falcon-org registry catalog: forwards ECR image pushes and deletes to the central bus (per account and region)',
      scope: 'account-region',
      regions: config.derived.catalogEventRegions,
      parameters: homeParameter,
      defineMember: (member, params) =>
        new ForwardingRule(member, 'Forward', {
          // Fixed: the forwarding role trusts EventBridge only for this rule's ARN.
          ruleName: `${prefix}-forward-ecr-image-actions`,
          centralBusArn: eventBusArn(
            config.aws.homeRegion,
            memberParameter(params, CATALOG_MEMBER_PARAMETERS.homeAccountId).valueAsString,
            busName,
          ),
          eventPattern: ECR_IMAGE_ACTION_PATTERN,
          description: {
            role: 'falcon-org registry catalog: forwards ECR image actions to the central event bus',
            rule: 'falcon-org: forwards ECR image pushes and deletes to the central bus',
          },
        }),
    });
    this.rulesStackSet.node.addDependency(props.bus, this.rule);

    new cdk.CfnOutput(this, 'QueueUrlOutput', {
      key: 'CatalogEventsQueueUrl',
      description: 'The queue `falcon-org catalog follow <url>` drains',
      value: this.queue.queueUrl,
    });
    new cdk.CfnOutput(this, 'FollowerPolicyOutput', {
      key: 'CatalogFollowerPolicyArn',
      description: 'Attach to the role that runs `falcon-org catalog follow`',
      value: this.followerPolicy.managedPolicyArn,
    });
    addPlanNote(
      this,
      'catalog',
      `ECR image actions of ${config.derived.catalogEventRegions.join(', ')} go to the queue ${prefix}'s CatalogEventsQueueUrl; run \`falcon-org catalog follow <queue-url> --config …\` to keep the catalog current (and \`catalog scan\` now and then to reconcile)`,
    );
  }
}
