import { ecrNames } from '../config/names.js';
import { ecrLogGroupPrefix } from '../deploy/leftovers.js';
import { leaseParameterName } from '../ecr/ssm-run-lease.js';
import type { StackSetOwner, StackSetScope } from '../infra/metadata.js';

/** A member template resource as far as this reads it. */
export interface MemberResource {
  readonly Type: string;
  readonly DeletionPolicy?: string;
  readonly Properties?: Record<string, unknown>;
}

export interface PlannedStackSetForDestroy {
  readonly owner: StackSetOwner;
  readonly name: string;
  readonly scope: StackSetScope;
  readonly resources: Readonly<Record<string, MemberResource>>;
}

/**
 * What `falcon-org destroy` leaves behind by default, read from the member templates: resources
 * CloudFormation retains, the records the ECR handler keeps, and connections left in Falcon.
 */
export function afterDestroyOf(
  resourcePrefix: string,
  stackSets: readonly PlannedStackSetForDestroy[],
): string[] {
  const lines: string[] = [];
  let ecr = false;
  let disconnect = false;
  for (const set of stackSets) {
    const where = set.scope === 'account' ? 'each account' : 'each account and region';
    for (const [logicalId, r] of Object.entries(set.resources)) {
      if (r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate') {
        const known = r.Type === 'AWS::Logs::LogGroup' && set.owner === 'ecrConnections';
        lines.push(
          `${r.Type} ${logicalId} in ${where} (StackSet ${set.name}): retained` +
            (known ? `; its name starts with ${ecrLogGroupPrefix({ resourcePrefix })}` : ''),
        );
      }
      if (r.Properties?.['DisconnectOnDelete'] === 'false') {
        lines.push(
          `Falcon registry connections this deployment made stay in Falcon (features.ecrConnections.disconnectOnDelete: false)`,
        );
      }
      if (r.Properties?.['DisconnectOnDelete'] === 'true') disconnect = true;
    }
    if (set.owner === 'ecrConnections') ecr = true;
  }
  if (ecr && disconnect) {
    lines.push(
      'Falcon registry connections this deployment made are removed by each ECR Delete, and then its ownership ' +
        `record ${ecrNames({ resourcePrefix }).ownershipParameter} (features.ecrConnections.disconnectOnDelete: true); a ` +
        "connection Falcon cannot be reached for stays in Falcon, named in the Delete's reason",
    );
  } else if (ecr) {
    lines.push(
      `SSM parameter ${ecrNames({ resourcePrefix }).ownershipParameter} in each account: the ECR ownership record, kept by ` +
        'the ecr-connect handler (not CloudFormation) so a later deploy takes its connections over again',
    );
  }
  if (ecr) {
    lines.push(
      `SSM parameter ${leaseParameterName(ecrNames({ resourcePrefix }).ownershipParameter)} in each account: the lease ` +
        "that serialises the account's ecr-connect runs",
    );
    lines.push(
      '"falcon-org destroy --purge" removes the ECR ownership and lease parameters and the log group with the stack.',
    );
  }
  return lines;
}

/**
 * What destroy keeps of the root stack on purpose: the EKS runs table (retained), the record of
 * which clusters Falcon was installed on and which keep it.
 */
export function rootRetainedOf(
  resources: Readonly<Record<string, { readonly Type: string; readonly DeletionPolicy?: string }>>,
): string[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::DynamoDB::Table' && r.DeletionPolicy === 'Retain')
    .map(
      ([logicalId]) =>
        `AWS::DynamoDB::Table ${logicalId} in the home account (the EKS runs table): retained — it records every cluster Falcon was installed on and each cluster's last run; destroy names it; delete it by hand when done`,
    );
}
