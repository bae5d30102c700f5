import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import type { CloudFormationSender } from '../aws/stackset-results.js';

export interface RootStackSet {
  readonly logicalId: string;
  /** StackSet name or ID (`name:uuid`); both are accepted by the StackSet APIs. */
  readonly stackSetName: string;
}

/**
 * The StackSets the root stack owns (every page of ListStackResources), or undefined when the
 * root stack does not exist. Deleted ones only with `includeDeleted` (after a failed deploy).
 */
export async function listRootStackSets(
  cfn: CloudFormationSender,
  stackName: string,
  options: { readonly includeDeleted?: boolean } = {},
): Promise<RootStackSet[] | undefined> {
  const found: RootStackSet[] = [];
  let token: string | undefined;
  try {
    do {
      const out = await cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token }));
      for (const r of out.StackResourceSummaries ?? []) {
        if (r.ResourceType !== 'AWS::CloudFormation::StackSet' || !r.PhysicalResourceId) continue;
        // A rolled-back create leaves its StackSets listed as DELETE_COMPLETE.
        if (r.ResourceStatus === 'DELETE_COMPLETE' && options.includeDeleted !== true) continue;
        found.push({ logicalId: r.LogicalResourceId ?? '', stackSetName: r.PhysicalResourceId });
      }
      token = out.NextToken;
    } while (token);
  } catch (error) {
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/i.test(error.message)) {
      return undefined;
    }
    throw error;
  }
  return found;
}
