import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  DisassociateAccessPolicyCommand,
  ListAssociatedAccessPoliciesCommand,
  UpdateClusterConfigCommand,
  type AccessScope,
  type Cluster,
  type EKSClient,
} from '@aws-sdk/client-eks';
import type { AccessEntryUndo } from '../eks/run-contract.js';
import { ClusterError, ClusterGoneError } from './errors.js';
import { pollUntil, type DeployerClock } from './wait.js';

/**
 * The Kubernetes user name of access entries this deployer creates: it marks them as ours (only
 * those are ever removed) and names the deployer in the cluster's audit log. A user name rather
 * than a tag, so creating the entry needs no eks:TagResource permission.
 */
export const DEPLOYER_USERNAME = 'falcon-org-eks-deployer';

export interface ClusterEndpoint {
  readonly endpoint: string;
  readonly caPem: string;
  readonly authenticationMode: string | undefined;
  readonly publicAccess: boolean;
  readonly privateAccess: boolean;
  readonly publicAccessCidrs: readonly string[];
  readonly version: string | undefined;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function endpointOf(cluster: Cluster): ClusterEndpoint {
  const vpc = cluster.resourcesVpcConfig ?? {};
  return {
    endpoint: cluster.endpoint ?? '',
    caPem: Buffer.from(cluster.certificateAuthority?.data ?? '', 'base64').toString('utf8'),
    authenticationMode: cluster.accessConfig?.authenticationMode,
    publicAccess: vpc.endpointPublicAccess ?? false,
    privateAccess: vpc.endpointPrivateAccess ?? false,
    publicAccessCidrs: vpc.publicAccessCidrs ?? [],
    version: cluster.version,
  };
}

/**
 * Waits until the cluster is ACTIVE (a cluster just created is CREATING for 10+ minutes). Gone,
 * DELETING or FAILED end the wait with ClusterGoneError; the deadline with DeadlineError.
 */
export async function waitClusterActive(
  eks: EKSClient,
  name: string,
  clock: DeployerClock,
  deadlineSeconds: number,
): Promise<ClusterEndpoint> {
  const cluster = await pollUntil(
    clock,
    { what: `cluster ${name} to be ACTIVE`, deadlineSeconds, initialDelayMs: 5000, maxDelayMs: 30_000 },
    async () => {
      let found: Cluster | undefined;
      try {
        found = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') {
          throw new ClusterGoneError(`cluster ${name} does not exist (deleted while waiting?)`, {
            cause: error,
          });
        }
        throw error;
      }
      const status = found?.status ?? 'UNKNOWN';
      if (status === 'DELETING' || status === 'FAILED') {
        throw new ClusterGoneError(`cluster ${name} is ${status}; nothing to protect`);
      }
      return { done: status === 'ACTIVE', value: found, seen: `status ${status}` };
    },
  );
  if (!cluster?.endpoint) throw new ClusterError(`cluster ${name} is ACTIVE but has no endpoint`);
  return endpointOf(cluster);
}

export function clusterAdminPolicyArn(partition: string): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`;
}

/** The principal's access entry as found before the run changes it. */
export interface AccessEntryFound {
  readonly exists: boolean;
  /** It carries our user name: this deployer created it (a run that did not clean up). */
  readonly ours: boolean;
  /** The scope the cluster admin policy has on it, when associated. */
  readonly adminScope?: AccessScope;
}

/** The scope the policy is associated with on the principal's entry, or undefined when it is not. */
async function associatedScope(
  eks: EKSClient,
  cluster: string,
  principalArn: string,
  policyArn: string,
): Promise<AccessScope | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await eks.send(
      new ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn, nextToken }),
    );
    const found = page.associatedAccessPolicies?.find((a) => a.policyArn === policyArn);
    if (found) return found.accessScope ?? { type: 'cluster' };
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** Reads the principal's access entry and its cluster admin association (changes nothing). */
export async function inspectAccessEntry(
  eks: EKSClient,
  cluster: string,
  principalArn: string,
  partition: string,
): Promise<AccessEntryFound> {
  let username: string | undefined;
  try {
    username = (await eks.send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn })))
      .accessEntry?.username;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return { exists: false, ours: false };
    throw error;
  }
  const adminScope = await associatedScope(eks, cluster, principalArn, clusterAdminPolicyArn(partition));
  return { exists: true, ours: username === DEPLOYER_USERNAME, ...(adminScope ? { adminScope } : {}) };
}

/**
 * What undoes `grantClusterAdmin` on what was found: our own entry (created now, or left by an
 * earlier run) is removed; on an entry that is not ours exactly the association is undone
 * (disassociated, or its narrower scope put back) and the entry kept. Undefined when the grant
 * changes nothing (someone else's entry that already has the policy at cluster scope).
 */
export function accessEntryUndo(
  found: AccessEntryFound,
  principalArn: string,
  partition: string,
): AccessEntryUndo | undefined {
  if (!found.exists || found.ours) return { principalArn, action: 'remove-entry' };
  if (found.adminScope?.type === 'cluster') return undefined;
  const policyArn = clusterAdminPolicyArn(partition);
  if (found.adminScope === undefined) return { principalArn, action: 'disassociate', policyArn };
  return {
    principalArn,
    action: 'restore-scope',
    policyArn,
    scope: {
      type: found.adminScope.type === 'namespace' ? 'namespace' : 'cluster',
      ...(found.adminScope.namespaces ? { namespaces: [...found.adminScope.namespaces] } : {}),
    },
  };
}

/**
 * Gives the principal the cluster admin access policy at cluster scope (installing CRDs, cluster
 * roles and webhooks needs it): creates the access entry (STANDARD, our user name) when there was
 * none, and associates the policy unless it already applies at cluster scope. An entry created
 * here is removed again when the association fails.
 */
export async function grantClusterAdmin(
  eks: EKSClient,
  cluster: string,
  principalArn: string,
  partition: string,
  found: AccessEntryFound,
): Promise<void> {
  let created = false;
  if (!found.exists) {
    try {
      await eks.send(
        new CreateAccessEntryCommand({
          clusterName: cluster,
          principalArn,
          type: 'STANDARD',
          username: DEPLOYER_USERNAME,
        }),
      );
      created = true;
    } catch (error) {
      if (errorName(error) !== 'ResourceInUseException') throw error;
      // Someone created it since it was read: what was recorded to undo no longer fits.
      throw new ClusterError(
        `an access entry for ${principalArn} was created on cluster ${cluster} by someone else during this run; run again`,
        { cause: error },
      );
    }
  }
  if (found.adminScope?.type === 'cluster') return;
  try {
    await eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: cluster,
        principalArn,
        policyArn: clusterAdminPolicyArn(partition),
        accessScope: { type: 'cluster' },
      }),
    );
  } catch (error) {
    // The run never learns about an entry it cannot use: remove the one just created here.
    if (created) await removeAccessEntry(eks, cluster, principalArn);
    throw error;
  }
}

/**
 * Undoes what `grantClusterAdmin` did, as recorded before it did it. Safe to repeat, and safe after
 * others changed things: an entry that no longer carries our user name is never removed, and what
 * is gone already is not an error.
 */
export async function undoAccessEntry(eks: EKSClient, cluster: string, undo: AccessEntryUndo): Promise<void> {
  const { principalArn } = undo;
  try {
    switch (undo.action) {
      case 'remove-entry': {
        const entry = (await eks.send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn })))
          .accessEntry;
        if (entry?.username === DEPLOYER_USERNAME) await removeAccessEntry(eks, cluster, principalArn);
        return;
      }
      case 'disassociate':
        await eks.send(
          new DisassociateAccessPolicyCommand({
            clusterName: cluster,
            principalArn,
            policyArn: undo.policyArn,
          }),
        );
        return;
      case 'restore-scope':
        await eks.send(
          new AssociateAccessPolicyCommand({
            clusterName: cluster,
            principalArn,
            policyArn: undo.policyArn,
            accessScope: {
              type: undo.scope.type,
              ...(undo.scope.namespaces ? { namespaces: [...undo.scope.namespaces] } : {}),
            },
          }),
        );
        return;
    }
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
}

export async function removeAccessEntry(
  eks: EKSClient,
  cluster: string,
  principalArn: string,
): Promise<void> {
  try {
    await eks.send(new DeleteAccessEntryCommand({ clusterName: cluster, principalArn }));
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
}

/** Sets the public endpoint allow-list and waits until EKS has applied the change. */
export async function setPublicAccessCidrs(
  eks: EKSClient,
  cluster: string,
  cidrs: readonly string[],
  clock: DeployerClock,
  deadlineSeconds: number,
): Promise<void> {
  const started = await eks.send(
    new UpdateClusterConfigCommand({ name: cluster, resourcesVpcConfig: { publicAccessCidrs: [...cidrs] } }),
  );
  const updateId = started.update?.id;
  if (!updateId) throw new ClusterError(`cluster ${cluster}: UpdateClusterConfig returned no update ID`);
  await pollUntil(
    clock,
    {
      what: `endpoint allow-list update ${updateId} on ${cluster}`,
      deadlineSeconds,
      initialDelayMs: 5000,
      maxDelayMs: 30_000,
    },
    async () => {
      const update = (await eks.send(new DescribeUpdateCommand({ name: cluster, updateId }))).update;
      const status = update?.status ?? 'Unknown';
      if (status === 'Failed' || status === 'Cancelled') {
        const detail = update?.errors?.map((e) => e.errorMessage).join('; ') ?? '';
        throw new ClusterError(
          `cluster ${cluster}: allow-list update ${status}${detail ? `: ${detail}` : ''}`,
        );
      }
      return { done: status === 'Successful', seen: `update ${status}` };
    },
  );
}
