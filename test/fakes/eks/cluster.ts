import {
  ResourceInUseException,
  ResourceNotFoundException,
  type AccessScope,
  type FargateProfile,
} from '@aws-sdk/client-eks';
import { STAND_IN_CA_PEM, type KubeStandIn } from '../kube/server.js';

/*
 * One EKS cluster as the deployer sees it through the EKS API: status, endpoint access and public
 * allow-list (changed through UpdateClusterConfig and its update), access entries and the access
 * policies associated with them, and Fargate profiles. Associating a policy grants the Kubernetes
 * stand-in's principal that access after a propagation delay (AmazonEKSViewPolicy: reads; any
 * other: cluster-admin); removing it takes it back. The operations throw the SDK's own exception
 * classes, so aws-sdk-client-mock (test/cluster/harness.ts) and the HTTP front
 * (test/fakes/eks/server.ts, for the bundled deployer in its own process) share this one model.
 */

export const VIEW_POLICY_SUFFIX = '/AmazonEKSViewPolicy';

export interface FakeClusterSettings {
  /** Statuses DescribeCluster answers, one per call; the last one repeats. "GONE" = not found. */
  statuses: string[];
  authenticationMode: string;
  publicAccess: boolean;
  publicAccessCidrs: string[];
  /** Time between AssociateAccessPolicy and Kubernetes accepting the principal. */
  accessPropagationMs: number;
  /** Makes the next UpdateClusterConfig updates end "Failed" (after the first `okUpdates`). */
  failUpdatesAfter?: number;
}

export interface AccessEntry {
  username?: string;
}

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });

export class EksClusterFake {
  readonly accessEntries = new Map<string, AccessEntry>();
  /** Access policies associated with each principal's entry: policy ARN → scope. */
  readonly associations = new Map<string, Map<string, AccessScope>>();
  /** Every allow-list an update applied, in order. */
  readonly cidrUpdates: string[][] = [];
  /** The cluster's Fargate profiles; by default one selecting every Falcon namespace. */
  fargateProfiles: FargateProfile[] = [
    {
      fargateProfileName: 'falcon',
      status: 'ACTIVE',
      selectors: [
        { namespace: 'falcon-operator' },
        { namespace: 'falcon-system' },
        { namespace: 'falcon-kac' },
      ],
    },
  ];
  readonly cluster: FakeClusterSettings = {
    statuses: ['ACTIVE'],
    authenticationMode: 'API_AND_CONFIG_MAP',
    publicAccess: true,
    publicAccessCidrs: ['0.0.0.0/0'],
    accessPropagationMs: 20_000,
  };
  private describeCalls = 0;
  private updates = 0;
  private readonly updateStatus = new Map<string, string>();

  constructor(
    private readonly kube: KubeStandIn,
    private readonly now: () => number,
  ) {}

  describeCluster(input: { name: string }) {
    const statuses = this.cluster.statuses;
    const status = statuses[Math.min(this.describeCalls++, statuses.length - 1)] ?? 'ACTIVE';
    if (status === 'GONE') throw notFound(`No cluster found for name: ${input.name}.`);
    return {
      cluster: {
        name: input.name,
        status,
        version: '1.31',
        endpoint: this.kube.url,
        certificateAuthority: { data: Buffer.from(STAND_IN_CA_PEM).toString('base64') },
        accessConfig: { authenticationMode: this.cluster.authenticationMode },
        resourcesVpcConfig: {
          endpointPublicAccess: this.cluster.publicAccess,
          endpointPrivateAccess: true,
          publicAccessCidrs: [...this.cluster.publicAccessCidrs],
        },
      },
    };
  }

  createAccessEntry(input: { principalArn: string; username?: string }) {
    if (this.accessEntries.has(input.principalArn)) {
      throw new ResourceInUseException({
        message: 'The specified access entry resource is already in use on this cluster.',
        $metadata: {},
      });
    }
    this.accessEntries.set(
      input.principalArn,
      input.username !== undefined ? { username: input.username } : {},
    );
    return { accessEntry: { principalArn: input.principalArn } };
  }

  describeAccessEntry(input: { principalArn: string }) {
    const entry = this.accessEntries.get(input.principalArn);
    if (!entry) throw notFound('not found');
    return { accessEntry: { principalArn: input.principalArn, ...entry } };
  }

  deleteAccessEntry(input: { principalArn: string }) {
    if (!this.accessEntries.delete(input.principalArn)) throw notFound('not found');
    this.associations.delete(input.principalArn);
    this.kube.options.accessGrantedAt = undefined;
    this.kube.options.readAccessGrantedAt = undefined;
    return {};
  }

  associateAccessPolicy(input: { principalArn: string; policyArn: string; accessScope: AccessScope }) {
    if (!this.accessEntries.has(input.principalArn)) throw notFound('no access entry');
    const policies = this.associations.get(input.principalArn) ?? new Map<string, AccessScope>();
    policies.set(input.policyArn, input.accessScope);
    this.associations.set(input.principalArn, policies);
    const grant = this.now() + this.cluster.accessPropagationMs;
    const options = this.kube.options;
    if (input.policyArn.endsWith(VIEW_POLICY_SUFFIX)) {
      options.readAccessGrantedAt = Math.min(options.readAccessGrantedAt ?? grant, grant);
    } else {
      options.accessGrantedAt = Math.min(options.accessGrantedAt ?? grant, grant);
    }
    return {};
  }

  listAssociatedAccessPolicies(input: { principalArn: string }) {
    if (!this.accessEntries.has(input.principalArn)) throw notFound('no access entry');
    const policies = [...(this.associations.get(input.principalArn) ?? new Map<string, AccessScope>())];
    return {
      associatedAccessPolicies: policies.map(([policyArn, accessScope]) => ({ policyArn, accessScope })),
    };
  }

  disassociateAccessPolicy(input: { principalArn: string; policyArn: string }) {
    const policies = this.associations.get(input.principalArn);
    if (!policies?.delete(input.policyArn)) throw notFound('not associated');
    const left = [...policies.keys()];
    if (!left.some((p) => !p.endsWith(VIEW_POLICY_SUFFIX))) this.kube.options.accessGrantedAt = undefined;
    if (!left.some((p) => p.endsWith(VIEW_POLICY_SUFFIX))) this.kube.options.readAccessGrantedAt = undefined;
    return {};
  }

  /** Paged by one profile, so the deployer has to follow nextToken. */
  listFargateProfiles(input: { nextToken?: string }) {
    const at = input.nextToken === undefined ? 0 : Number(input.nextToken);
    const names = this.fargateProfiles.map((p) => p.fargateProfileName ?? '');
    return {
      fargateProfileNames: names.slice(at, at + 1),
      ...(at + 1 < names.length ? { nextToken: String(at + 1) } : {}),
    };
  }

  describeFargateProfile(input: { fargateProfileName: string }) {
    const profile = this.fargateProfiles.find((p) => p.fargateProfileName === input.fargateProfileName);
    if (!profile) throw notFound('No Fargate Profile found');
    return { fargateProfile: profile };
  }

  updateClusterConfig(input: { resourcesVpcConfig?: { publicAccessCidrs?: string[] } }) {
    const cidrs = input.resourcesVpcConfig?.publicAccessCidrs ?? [];
    const id = `update-${++this.updates}`;
    const fail = this.cluster.failUpdatesAfter !== undefined && this.updates > this.cluster.failUpdatesAfter;
    this.updateStatus.set(id, fail ? 'Failed' : 'Successful');
    if (!fail) {
      this.cluster.publicAccessCidrs = [...cidrs];
      this.cidrUpdates.push([...cidrs]);
    }
    return { update: { id, status: 'InProgress' } };
  }

  describeUpdate(input: { updateId: string }) {
    const status = this.updateStatus.get(input.updateId);
    return {
      update: {
        id: input.updateId,
        status,
        ...(status === 'Failed' ? { errors: [{ errorMessage: 'simulated failure' }] } : {}),
      },
    };
  }

  /** Allow-list, access entries and associations: what a run must leave as it found it. */
  snapshot(): {
    cidrs: string[];
    entries: [string, AccessEntry][];
    associations: [string, [string, AccessScope][]][];
  } {
    return {
      cidrs: [...this.cluster.publicAccessCidrs],
      entries: [...this.accessEntries].map(([k, v]) => [k, { ...v }] as [string, AccessEntry]).sort(),
      associations: [...this.associations]
        .map(([k, v]) => [k, [...v].sort()] as [string, [string, AccessScope][]])
        .filter(([, v]) => v.length > 0)
        .sort(),
    };
  }
}
