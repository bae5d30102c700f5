import * as cdk from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface CentralBusProps {
  readonly eventBusName: string;
  /** Only principals of this organization may put events (`aws:PrincipalOrgID`). */
  readonly organizationId: string;
}

/**
 * The home account's event bus the member forwarding rules send EKS cluster events to. Its policy
 * admits `events:PutEvents` from principals of the organization and no one else; the member rules
 * put with their own roles, which are such principals.
 */
export class CentralBus extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: CentralBusProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.eventBusName,
      description: 'falcon-org EKS Protection: EKS cluster events forwarded from every member account',
    });
    this.bus.applyRemovalPolicy(cdk.RemovalPolicy.DESTROY);
    // A raw policy resource: the higher-level helper goes through a deprecated property and warns on every synth.
    new events.CfnEventBusPolicy(this, 'Policy', {
      eventBusName: this.bus.eventBusName,
      statementId: 'OrganizationPrincipalsPutEvents',
      statement: new iam.PolicyStatement({
        sid: 'OrganizationPrincipalsPutEvents',
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
      }).toStatementJson() as unknown,
    });
  }
}
