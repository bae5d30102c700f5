import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeFargateProfileCommand,
  DescribeUpdateCommand,
  DisassociateAccessPolicyCommand,
  ListAssociatedAccessPoliciesCommand,
  EKSClient,
  ResourceInUseException,
  ResourceNotFoundException,
  ListFargateProfilesCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateClusterConfigCommand,
  type AccessScope,
  type FargateProfile,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import type { ComputeMode, RunRequest, RunResult } from '../../src/eks/run-contract.js';
import { KubeClient } from '../../src/cluster/kube-client.js';
import { sha256Hex } from '../../src/cluster/manifest.js';
import { runDeployer, type DeployerDeps } from '../../src/cluster/run.js';
import type { DeployerRunSettings } from '../../src/cluster/settings.js';
import { TokenSource } from '../../src/cluster/token.js';
import type { DeployerClock } from '../../src/cluster/wait.js';
import { KubeStandIn, STAND_IN_CA_PEM, type KubeStandInOptions } from '../fakes/kube/server.js';

export const CLIENT_SECRET = 'super-secret-client-secret-0123456789abcdef';
export const ACCESS_KEY_ID = 'ASIATESTDEPLOYER';
const PRINCIPAL = 'arn:aws:iam::111122223333:role/falcon-org-eks-execution';

export function fixture(version: string): Uint8Array {
  return readFileSync(new URL(`fixtures/operator-${version}.yaml`, import.meta.url));
}

/** Virtual time: `sleep` advances it at once, so minutes of waiting take milliseconds. */
export class VirtualClock implements DeployerClock {
  current = Date.parse('2026-11-29T12:00:00Z');
  now = (): number => this.current;
  sleep = async (ms: number): Promise<void> => {
    this.current += ms;
    await new Promise((resolve) => setImmediate(resolve));
  };
}

export function settingsFor(
  version = 'v1.0.0',
  overrides: Partial<DeployerRunSettings> = {},
): DeployerRunSettings {
  return {
    partition: 'aws',
    homeAccountId: '999988887777',
    homeRegion: 'us-east-1',
    falcon: { cloud: 'us-gov-1' },
    operator: {
      version,
      manifestSha256: sha256Hex(fixture(version)),
      manifestBucket: 'artifacts',
      manifestKey: `deployer/operator/${version}/falcon-operator.yaml`,
    },
    nodeSensor: { backend: 'bpf' },
    admission: { enabled: true, failurePolicy: 'Ignore', replicas: 2 },
    fargateInjectionLabel: 'sensor.falcon-system.crowdstrike.com/injection',
    keepAccessEntry: false,
    allowListEgress: false,
    egressCidrs: ['203.0.113.10/32'],
    mirrorImages: { enabled: false, repositoryPrefix: 'falcon-org/crowdstrike', tags: {} },
    deadlines: {
      clusterActiveSeconds: 1800,
      accessPropagationSeconds: 180,
      crdEstablishedSeconds: 120,
      operatorAvailableSeconds: 300,
      sensorsReadySeconds: 900,
      uninstallSeconds: 600,
    },
    ...overrides,
  };
}

export interface FakeCluster {
  /** Statuses DescribeCluster answers, one per call; the last one repeats. "GONE" = not found. */
  statuses: string[];
  authenticationMode: string;
  publicAccess: boolean;
  publicAccessCidrs: string[];
  /** Time between AssociateAccessPolicy and Kubernetes accepting the principal. */
  accessPropagationMs: number;
  /** Makes the next UpdateClusterConfig updates end "Failed" (after the first `okUpdates`). */
  failUpdatesAfter?: number;
  /** The cluster's tags (TagResource / UntagResource change them). */
  tags: Record<string, string>;
}

/** A deployer wired to the Kubernetes stand-in and a stateful EKS fake. */
export class DeployerHarness {
  readonly clock = new VirtualClock();
  readonly eks = mockClient(EKSClient);
  readonly logs: string[] = [];
  readonly released: RunResult[] = [];
  /** What runs recorded about Falcon on the cluster, in order: "installed <runId>" / "removed <runId>". */
  readonly falconRecords: string[] = [];
  readonly manifests = new Map<string, Uint8Array>();
  readonly accessEntries = new Map<string, { username?: string }>();
  readonly cidrUpdates: string[][] = [];
  /** Access policies associated with each principal's entry: policy ARN → scope. */
  readonly associations = new Map<string, Map<string, AccessScope>>();
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
  readonly cluster: FakeCluster = {
    statuses: ['ACTIVE'],
    authenticationMode: 'API_AND_CONFIG_MAP',
    publicAccess: true,
    publicAccessCidrs: ['0.0.0.0/0'],
    accessPropagationMs: 20_000,
    tags: {},
  };
  tokenRenewAfterMs = 10 * 60_000;
  standIn!: KubeStandIn;
  private describeCalls = 0;

  static async start(options: Partial<KubeStandInOptions> = {}): Promise<DeployerHarness> {
    const h = new DeployerHarness();
    h.standIn = await KubeStandIn.start({ now: h.clock.now, accessKeyId: ACCESS_KEY_ID, ...options });
    for (const v of ['v1.0.0', 'v1.1.0'])
      h.manifests.set(`deployer/operator/${v}/falcon-operator.yaml`, fixture(v));
    h.fakeEks();
    return h;
  }

  async close(): Promise<void> {
    this.eks.restore();
    await this.standIn.close();
  }

  private fakeEks(): void {
    this.eks.on(DescribeClusterCommand).callsFake((input: { name: string }) => {
      const statuses = this.cluster.statuses;
      const status = statuses[Math.min(this.describeCalls++, statuses.length - 1)] ?? 'ACTIVE';
      if (status === 'GONE') {
        throw new ResourceNotFoundException({
          message: `No cluster found for name: ${input.name}.`,
          $metadata: {},
        });
      }
      return {
        cluster: {
          name: input.name,
          status,
          version: '1.31',
          endpoint: this.standIn.url,
          certificateAuthority: { data: Buffer.from(STAND_IN_CA_PEM).toString('base64') },
          arn: `arn:aws:eks:eu-west-1:111122223333:cluster/${input.name}`,
          tags: { ...this.cluster.tags },
          accessConfig: { authenticationMode: this.cluster.authenticationMode },
          resourcesVpcConfig: {
            endpointPublicAccess: this.cluster.publicAccess,
            endpointPrivateAccess: true,
            publicAccessCidrs: [...this.cluster.publicAccessCidrs],
          },
        },
      };
    });
    this.eks
      .on(TagResourceCommand)
      .callsFake((input: { resourceArn: string; tags: Record<string, string> }) => {
        if (!input.resourceArn.startsWith('arn:aws:eks:eu-west-1:111122223333:cluster/'))
          throw new ResourceNotFoundException({ message: `no resource ${input.resourceArn}`, $metadata: {} });
        Object.assign(this.cluster.tags, input.tags);
        return {};
      });
    this.eks.on(UntagResourceCommand).callsFake((input: { resourceArn: string; tagKeys: string[] }) => {
      for (const key of input.tagKeys) delete this.cluster.tags[key];
      return {};
    });
    this.eks.on(CreateAccessEntryCommand).callsFake((input: { principalArn: string; username?: string }) => {
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
    });
    this.eks.on(DescribeAccessEntryCommand).callsFake((input: { principalArn: string }) => {
      const entry = this.accessEntries.get(input.principalArn);
      if (!entry) throw new ResourceNotFoundException({ message: 'not found', $metadata: {} });
      return { accessEntry: { principalArn: input.principalArn, ...entry } };
    });
    this.eks
      .on(AssociateAccessPolicyCommand)
      .callsFake((input: { principalArn: string; policyArn: string; accessScope: AccessScope }) => {
        if (!this.accessEntries.has(input.principalArn)) {
          throw new ResourceNotFoundException({ message: 'no access entry', $metadata: {} });
        }
        const policies = this.associations.get(input.principalArn) ?? new Map<string, AccessScope>();
        policies.set(input.policyArn, input.accessScope);
        this.associations.set(input.principalArn, policies);
        const grant = this.clock.now() + this.cluster.accessPropagationMs;
        this.standIn.options.accessGrantedAt = Math.min(this.standIn.options.accessGrantedAt ?? grant, grant);
        return {};
      });
    this.eks.on(DeleteAccessEntryCommand).callsFake((input: { principalArn: string }) => {
      if (!this.accessEntries.delete(input.principalArn)) {
        throw new ResourceNotFoundException({ message: 'not found', $metadata: {} });
      }
      this.associations.delete(input.principalArn);
      this.standIn.options.accessGrantedAt = undefined;
      return {};
    });
    this.eks.on(ListAssociatedAccessPoliciesCommand).callsFake((input: { principalArn: string }) => {
      if (!this.accessEntries.has(input.principalArn)) {
        throw new ResourceNotFoundException({ message: 'no access entry', $metadata: {} });
      }
      const policies = [...(this.associations.get(input.principalArn) ?? new Map<string, AccessScope>())];
      return {
        associatedAccessPolicies: policies.map(([policyArn, accessScope]) => ({ policyArn, accessScope })),
      };
    });
    this.eks
      .on(DisassociateAccessPolicyCommand)
      .callsFake((input: { principalArn: string; policyArn: string }) => {
        if (!this.associations.get(input.principalArn)?.delete(input.policyArn)) {
          throw new ResourceNotFoundException({ message: 'not associated', $metadata: {} });
        }
        if (this.associations.get(input.principalArn)?.size === 0)
          this.standIn.options.accessGrantedAt = undefined;
        return {};
      });
    // Paged by one profile, so the deployer has to follow nextToken.
    this.eks.on(ListFargateProfilesCommand).callsFake((input: { nextToken?: string }) => {
      const at = input.nextToken === undefined ? 0 : Number(input.nextToken);
      const names = this.fargateProfiles.map((p) => p.fargateProfileName ?? '');
      return {
        fargateProfileNames: names.slice(at, at + 1),
        ...(at + 1 < names.length ? { nextToken: String(at + 1) } : {}),
      };
    });
    this.eks.on(DescribeFargateProfileCommand).callsFake((input: { fargateProfileName: string }) => {
      const profile = this.fargateProfiles.find((p) => p.fargateProfileName === input.fargateProfileName);
      if (!profile)
        throw new ResourceNotFoundException({ message: 'No Fargate Profile found', $metadata: {} });
      return { fargateProfile: profile };
    });
    let updates = 0;
    const updateStatus = new Map<string, string>();
    this.eks
      .on(UpdateClusterConfigCommand)
      .callsFake((input: { resourcesVpcConfig?: { publicAccessCidrs?: string[] } }) => {
        const cidrs = input.resourcesVpcConfig?.publicAccessCidrs ?? [];
        const id = `update-${++updates}`;
        const fail = this.cluster.failUpdatesAfter !== undefined && updates > this.cluster.failUpdatesAfter;
        updateStatus.set(id, fail ? 'Failed' : 'Successful');
        if (!fail) {
          this.cluster.publicAccessCidrs = [...cidrs];
          this.cidrUpdates.push([...cidrs]);
        }
        return { update: { id, status: 'InProgress' } };
      });
    this.eks.on(DescribeUpdateCommand).callsFake((input: { updateId: string }) => ({
      update: {
        id: input.updateId,
        status: updateStatus.get(input.updateId),
        ...(updateStatus.get(input.updateId) === 'Failed'
          ? { errors: [{ errorMessage: 'simulated failure' }] }
          : {}),
      },
    }));
  }

  deps(): DeployerDeps {
    return {
      eks: new EKSClient({ region: 'eu-west-1' }),
      principalArn: PRINCIPAL,
      kubeClient: (cluster) =>
        new KubeClient({
          server: cluster.endpoint,
          caPem: cluster.caPem,
          token: new TokenSource({
            cluster: 'prod',
            region: 'eu-west-1',
            credentials: () =>
              Promise.resolve({
                accessKeyId: ACCESS_KEY_ID,
                secretAccessKey: 'test-secret',
                sessionToken: 'session',
              }),
            now: this.clock.now,
            renewAfterMs: this.tokenRenewAfterMs,
          }),
        }),
      manifests: {
        read: (bucket, key) => {
          const bytes = this.manifests.get(key);
          if (bucket !== 'artifacts' || !bytes)
            return Promise.reject(new Error(`NoSuchKey: ${bucket}/${key}`));
          return Promise.resolve(bytes);
        },
      },
      credentials: () => Promise.resolve({ clientId: 'falcon-client-id', clientSecret: CLIENT_SECRET }),
      runs: {
        releaseLock: (result) => {
          this.released.push(result);
          return Promise.resolve('released');
        },
        recordFalconInstalled: (_ref, runId) => {
          this.falconRecords.push(`installed ${runId}`);
          return Promise.resolve();
        },
        recordFalconRemoved: (_ref, runId) => {
          this.falconRecords.push(`removed ${runId}`);
          return Promise.resolve();
        },
      },
      clock: this.clock,
      log: (line) => this.logs.push(line),
    };
  }

  request(compute: ComputeMode = 'nodes', mode: RunRequest['mode'] = 'install', runId = 'run-1'): RunRequest {
    return {
      accountId: '111122223333',
      region: 'eu-west-1',
      cluster: 'prod',
      compute,
      executionRoleArn: PRINCIPAL,
      runId,
      mode,
    };
  }

  run(
    compute: ComputeMode = 'nodes',
    settings: DeployerRunSettings = settingsFor(),
    mode: RunRequest['mode'] = 'install',
  ): Promise<RunResult> {
    return runDeployer(this.request(compute, mode, `run-${this.released.length + 1}`), settings, this.deps());
  }

  /** Falcon custom resources currently stored. */
  customResources(): Record<string, unknown>[] {
    return this.standIn.objects('/apis/falcon.crowdstrike.com/');
  }
}

/** A configuration file for `falcon-org eks deploy-cluster` with the local v1.0.0 manifest. */
export function cliConfigFile(dir: string, sha: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `falcon:
  cloud: us-2
  credentials:
    source: environment
aws:
  partition: aws
  homeRegion: us-east-1
organization:
  id: o-a1b2c3d4e5
  targets: [r-abcd]
features:
  eksProtection:
    enabled: true
    sensor: kernel
    admissionController: false
    deployer:
      operator:
        version: v1.0.0
        manifestSha256: ${sha}
        manifestFile: ${fileURLToPath(new URL('fixtures/operator-v1.0.0.yaml', import.meta.url))}
`,
  );
  return file;
}
