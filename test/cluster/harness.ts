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
import type { ClusterChanges, ComputeMode, RunRequest, RunResult } from '../../src/eks/run-contract.js';
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

/** EKS calls that change the cluster (a run is killed after them in the crash tests). */
const MUTATING_EKS = new Set([
  'UpdateClusterConfig',
  'CreateAccessEntry',
  'AssociateAccessPolicy',
  'DisassociateAccessPolicy',
  'DeleteAccessEntry',
]);

/** A deployer wired to the Kubernetes stand-in and a stateful EKS fake. */
export class DeployerHarness {
  readonly clock = new VirtualClock();
  readonly eks = mockClient(EKSClient);
  readonly logs: string[] = [];
  readonly released: RunResult[] = [];
  /** The runs table's record of what a run changed on the cluster and has not undone yet. */
  recorded: ClusterChanges | undefined;
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
        releaseRepairLock: (result) => {
          this.released.push(result);
          return Promise.resolve('released');
        },
        readClusterChanges: () => Promise.resolve(structuredClone(this.recorded)),
        recordClusterChanges: (_ref, changes) => {
          this.recorded = structuredClone(changes);
          return Promise.resolve('recorded');
        },
        clearClusterChanges: () => {
          this.recorded = undefined;
          return Promise.resolve('cleared');
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

  /**
   * Deps for a run that dies the way a killed build does — no further call, no clean-up, nothing
   * in memory survives — right after the mutating step `killAfter` picks (a mutating EKS call, a
   * Kubernetes write, or a runs-table write; `steps` lists them in order). From the kill on, every
   * call of the run waits forever. `dead` resolves when it has been killed.
   */
  killableDeps(killAfter: (step: string, index: number) => boolean = () => false): {
    deps: DeployerDeps;
    steps: string[];
    dead: Promise<void>;
  } {
    const steps: string[] = [];
    let killed = false;
    let die: () => void = () => undefined;
    const dead = new Promise<void>((resolve) => (die = resolve));
    const never = () => new Promise<never>(() => undefined);
    /** Called after a step completed: the run is killed there when chosen. */
    const stepped = async <T>(step: string, value: T): Promise<T> => {
      steps.push(step);
      if (killAfter(step, steps.length - 1)) {
        killed = true;
        die();
      }
      return killed ? never() : value;
    };
    const alive = async <T>(work: () => Promise<T>): Promise<T> => (killed ? never() : work());
    const base = this.deps();
    const eks = new EKSClient({ region: 'eu-west-1' });
    const send = eks.send.bind(eks) as (command: object) => Promise<unknown>;
    Object.assign(eks, {
      send: async (command: object) => {
        const out = await alive(() => send(command));
        const name = command.constructor.name.replace(/Command$/, '');
        return MUTATING_EKS.has(name) ? stepped(name, out) : alive(() => Promise.resolve(out));
      },
    });
    const runs = base.runs!;
    const deps: DeployerDeps = {
      ...base,
      eks,
      kubeClient: (cluster) => {
        const kube = base.kubeClient(cluster);
        const raw = kube.raw.bind(kube);
        kube.raw = async (req) => {
          const out = await alive(() => raw(req));
          return req.method === 'PATCH' || req.method === 'DELETE'
            ? stepped(`kube ${req.method}`, out)
            : alive(() => Promise.resolve(out));
        };
        return kube;
      },
      runs: {
        releaseLock: (r) => alive(() => runs.releaseLock(r)),
        releaseRepairLock: (r) => alive(() => runs.releaseRepairLock(r)),
        readClusterChanges: (ref) => alive(() => runs.readClusterChanges(ref)),
        recordClusterChanges: async (ref, c) =>
          stepped('record', await alive(() => runs.recordClusterChanges(ref, c))),
        clearClusterChanges: async (ref, id) =>
          stepped('clear', await alive(() => runs.clearClusterChanges(ref, id))),
      },
      clock: { now: this.clock.now, sleep: (ms) => alive(() => this.clock.sleep(ms)) },
    };
    return { deps, steps, dead };
  }

  /** Falcon custom resources currently stored. */
  customResources(): Record<string, unknown>[] {
    return this.standIn.objects('/apis/falcon.crowdstrike.com/');
  }
}
