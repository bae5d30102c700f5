import type { Cluster } from '@aws-sdk/client-eks';
import { isOptedOut, type ComputeMode } from './run-contract.js';

/** What discovery knows about one cluster, read from DescribeCluster, ListNodegroups and ListFargateProfiles. */
export interface ClusterFacts {
  readonly name: string;
  /** CREATING, ACTIVE, UPDATING, DELETING, FAILED, PENDING. */
  readonly status: string;
  /** API, API_AND_CONFIG_MAP or CONFIG_MAP (a cluster without `accessConfig` predates access entries: CONFIG_MAP). */
  readonly authenticationMode: string;
  readonly version?: string;
  readonly endpoint: {
    readonly public: boolean;
    readonly private: boolean;
    /** Where the public endpoint admits clients from; ["0.0.0.0/0"] when open. */
    readonly publicAccessCidrs: readonly string[];
  };
  readonly nodegroups: number;
  readonly fargateProfiles: number;
  readonly compute: ComputeMode;
  /** Tagged out of EKS Protection (OPT_OUT_TAG). */
  readonly optedOut: boolean;
}

export function computeMode(nodegroups: number, fargateProfiles: number): ComputeMode {
  if (nodegroups > 0 && fargateProfiles > 0) return 'mixed';
  if (nodegroups > 0) return 'nodes';
  if (fargateProfiles > 0) return 'fargate';
  return 'none';
}

export function clusterFacts(
  cluster: Cluster,
  nodegroups: readonly string[],
  fargateProfiles: readonly string[],
): ClusterFacts {
  const vpc = cluster.resourcesVpcConfig;
  const endpointPublic = vpc?.endpointPublicAccess ?? true; // EKS's default when unset
  return {
    name: cluster.name ?? '(unnamed)',
    status: cluster.status ?? 'UNKNOWN',
    authenticationMode: cluster.accessConfig?.authenticationMode ?? 'CONFIG_MAP',
    ...(cluster.version ? { version: cluster.version } : {}),
    endpoint: {
      public: endpointPublic,
      private: vpc?.endpointPrivateAccess ?? false,
      publicAccessCidrs: endpointPublic ? [...(vpc?.publicAccessCidrs ?? ['0.0.0.0/0'])] : [],
    },
    nodegroups: nodegroups.length,
    fargateProfiles: fargateProfiles.length,
    compute: computeMode(nodegroups.length, fargateProfiles.length),
    optedOut: isOptedOut(cluster.tags),
  };
}
