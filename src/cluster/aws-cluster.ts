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
  /** The cluster's tags (the opt-out tag among them). */
  readonly tags: Readonly<Record<string, string>>;
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
    tags: cluster.tags ?? {},
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

export interface AccessEntryState {
  /** True when this run (or an earlier run of this deployer) created the entry. */
  readonly ours: boolean;
  readonly created: boolean;
  /**
   * On an entry that is not ours: what this run changed about the cluster admin policy, so cleanup
   * undoes exactly that. Absent when the policy already applied at cluster scope (nothing changed).
   * `previousScope` is the narrower scope it had before (restored), or absent (disassociated).
   */
  readonly policyAssociated?: { readonly policyArn: string; readonly previousScope?: AccessScope };
}

export function clusterAdminPolicyArn(partition: string): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`;
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

/**
 * Ensures an access entry for the principal and associates the cluster admin access policy
 * (installing CRDs, cluster roles and webhooks needs it). An existing entry is not an error; it is
 * only ours (and so removed afterwards) when it carries our user name. On an entry that is not
 * ours the policy is associated only when it is not already there at cluster scope, and the state
 * records it so cleanup undoes exactly that (`restoreAccessPolicy`).
 */
export async function ensureAccessEntry(
  eks: EKSClient,
  cluster: string,
  principalArn: string,
  partition: string,
): Promise<AccessEntryState> {
  const policyArn = clusterAdminPolicyArn(partition);
  let created = false;
  let ours: boolean;
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
    ours = true;
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
    const existing = await eks.send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn }));
    ours = existing.accessEntry?.username === DEPLOYER_USERNAME;
  }
  let policyAssociated: AccessEntryState['policyAssociated'];
  if (!ours) {
    const scope = await associatedScope(eks, cluster, principalArn, policyArn);
    if (scope?.type === 'cluster') return { ours, created };
    policyAssociated = scope === undefined ? { policyArn } : { policyArn, previousScope: scope };
  }
  try {
    await eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: cluster,
        principalArn,
        policyArn,
        accessScope: { type: 'cluster' },
      }),
    );
  } catch (error) {
    // The run never learns about an entry it cannot use: remove the one just created here.
    if (created) await removeAccessEntry(eks, cluster, principalArn);
    throw error;
  }
  return { ours, created, ...(policyAssociated ? { policyAssociated } : {}) };
}

/**
 * Undoes what `ensureAccessEntry` changed on an entry that is not ours: disassociates the policy
 * it associated, or puts back the narrower scope it had. The entry itself is never touched.
 */
export async function restoreAccessPolicy(
  eks: EKSClient,
  cluster: string,
  principalArn: string,
  change: NonNullable<AccessEntryState['policyAssociated']>,
): Promise<void> {
  if (change.previousScope) {
    await eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: cluster,
        principalArn,
        policyArn: change.policyArn,
        accessScope: change.previousScope,
      }),
    );
    return;
  }
  try {
    await eks.send(
      new DisassociateAccessPolicyCommand({
        clusterName: cluster,
        principalArn,
        policyArn: change.policyArn,
      }),
    );
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
