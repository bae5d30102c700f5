import { readFileSync } from 'node:fs';
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
  ListFargateProfilesCommand,
  UpdateClusterConfigCommand,
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
import { EksClusterFake } from '../fakes/eks/cluster.js';
import { KubeStandIn, type KubeStandInOptions } from '../fakes/kube/server.js';

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

export type { FakeClusterSettings as FakeCluster } from '../fakes/eks/cluster.js';

/** A deployer wired to the Kubernetes stand-in and a stateful EKS fake. */
export class DeployerHarness {
  readonly clock = new VirtualClock();
  readonly eks = mockClient(EKSClient);
  readonly logs: string[] = [];
  readonly released: RunResult[] = [];
  readonly manifests = new Map<string, Uint8Array>();
  /** The cluster behind the mocked EKS client (its allow-list, access entries, Fargate profiles). */
  fake!: EksClusterFake;
  tokenRenewAfterMs = 10 * 60_000;
  standIn!: KubeStandIn;

  get accessEntries() {
    return this.fake.accessEntries;
  }
  get associations() {
    return this.fake.associations;
  }
  get cidrUpdates() {
    return this.fake.cidrUpdates;
  }
  get cluster() {
    return this.fake.cluster;
  }
  get fargateProfiles(): FargateProfile[] {
    return this.fake.fargateProfiles;
  }
  set fargateProfiles(profiles: FargateProfile[]) {
    this.fake.fargateProfiles = profiles;
  }

  static async start(options: Partial<KubeStandInOptions> = {}): Promise<DeployerHarness> {
    const h = new DeployerHarness();
    h.standIn = await KubeStandIn.start({ now: h.clock.now, accessKeyId: ACCESS_KEY_ID, ...options });
    h.fake = new EksClusterFake(h.standIn, h.clock.now);
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
    const f = this.fake;
    this.eks.on(DescribeClusterCommand).callsFake((input: { name: string }) => f.describeCluster(input));
    this.eks
      .on(CreateAccessEntryCommand)
      .callsFake((input: { principalArn: string }) => f.createAccessEntry(input));
    this.eks
      .on(DescribeAccessEntryCommand)
      .callsFake((input: { principalArn: string }) => f.describeAccessEntry(input));
    this.eks
      .on(AssociateAccessPolicyCommand)
      .callsFake((input: Parameters<EksClusterFake['associateAccessPolicy']>[0]) =>
        f.associateAccessPolicy(input),
      );
    this.eks
      .on(DeleteAccessEntryCommand)
      .callsFake((input: { principalArn: string }) => f.deleteAccessEntry(input));
    this.eks
      .on(ListAssociatedAccessPoliciesCommand)
      .callsFake((input: { principalArn: string }) => f.listAssociatedAccessPolicies(input));
    this.eks
      .on(DisassociateAccessPolicyCommand)
      .callsFake((input: { principalArn: string; policyArn: string }) => f.disassociateAccessPolicy(input));
    this.eks
      .on(ListFargateProfilesCommand)
      .callsFake((input: { nextToken?: string }) => f.listFargateProfiles(input));
    this.eks
      .on(DescribeFargateProfileCommand)
      .callsFake((input: { fargateProfileName: string }) => f.describeFargateProfile(input));
    this.eks
      .on(UpdateClusterConfigCommand)
      .callsFake((input: Parameters<EksClusterFake['updateClusterConfig']>[0]) =>
        f.updateClusterConfig(input),
      );
    this.eks.on(DescribeUpdateCommand).callsFake((input: { updateId: string }) => f.describeUpdate(input));
  }

  deps(): DeployerDeps {
    return {
      eks: new EKSClient({ region: 'eu-west-1' }),
      principalArn: PRINCIPAL,
      kubeClient: (cluster) =>
        new KubeClient({
          server: cluster.endpoint,
          caPem: cluster.caPem,
          clock: this.clock,
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
