import * as cdk from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CLUSTER_EVENT_PATTERN } from './cluster-events.js';

export interface ForwardingRuleProps {
  /** ARN of the central bus in the home account and region. */
  readonly centralBusArn: string;
  /** The rule's name (fixed: the role's trust policy names the rule's ARN). */
  readonly ruleName: string;
  /** The events forwarded. @default CLUSTER_EVENT_PATTERN (EKS CreateCluster and CreateFargateProfile) */
  readonly eventPattern?: events.EventPattern;
  /** @default the EKS cluster events' descriptions */
  readonly description?: { readonly role: string; readonly rule: string };
}

/**
 * In one member account and region: a rule on the default bus matching EKS CreateCluster and
 * CreateFargateProfile calls (CloudTrail management events) that forwards them to the central bus,
 * with a role that may put events on that bus and nowhere else, and that EventBridge may assume
 * only for this rule (aws:SourceAccount and aws:SourceArn: no other account's or rule's EventBridge
 * can use it). The role's name is left to CloudFormation: one exists per region of the account.
 */
export class ForwardingRule extends Construct {
  readonly rule: events.Rule;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ForwardingRuleProps) {
    super(scope, id);
    const ruleArn = `arn:${cdk.Aws.PARTITION}:events:${cdk.Aws.REGION}:${cdk.Aws.ACCOUNT_ID}:rule/${props.ruleName}`;
    this.role = new iam.Role(this, 'Role', {
      description:
        props.description?.role ??
        'falcon-org EKS Protection: forwards EKS cluster events to the central event bus',
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': cdk.Aws.ACCOUNT_ID, 'aws:SourceArn': ruleArn },
      }),
      inlinePolicies: {
        PutOnCentralBus: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'PutOnCentralBus',
              actions: ['events:PutEvents'],
              resources: [props.centralBusArn],
            }),
          ],
        }),
      },
    });
    this.rule = new events.Rule(this, 'Rule', {
      ruleName: props.ruleName,
      description:
        props.description?.rule ??
        'falcon-org: forwards EKS CreateCluster and CreateFargateProfile to the central bus',
      eventPattern: props.eventPattern ?? CLUSTER_EVENT_PATTERN,
    });
    // The role is handed over immutable: its inline policy is all it may do, the target adds nothing.
    this.rule.addTarget(
      new targets.EventBus(events.EventBus.fromEventBusArn(this, 'CentralBus', props.centralBusArn), {
        role: this.role.withoutPolicyUpdates(),
      }),
    );
  }
}
