import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import { CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeClusterCommand,
  EKSClient,
  ListClustersCommand,
  ListFargateProfilesCommand,
  ListNodegroupsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import {
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { createEksServices, type EksHomeClients } from '../../src/eks/aws-deps.js';
import type { EksEnvironment } from '../../src/handlers/shared/eks-environment.js';
import { EKS_FUNCTION_ENV, type EksFunctionSettings } from '../../src/eks/run-contract.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import type { LambdaContext } from '../../src/handlers/shared/lambda.js';
import { FakeDynamoTable } from './fake-dynamo.js';

export const HOME_ACCOUNT = '999999999999';
export const HOME_REGION = 'us-east-1';
export const TABLE = 'falcon-org-eks-runs';
export const PROJECT = 'falcon-org-eks-deployer';
export const QUEUE_URL = `https://sqs.${HOME_REGION}.amazonaws.com/${HOME_ACCOUNT}/falcon-org-eks-discovery`;
export const ROLE_NAME = 'falcon-org-eks-execution';

export interface FakeCluster {
  readonly name: string;
  status?: string;
  /** undefined: no accessConfig at all (an old cluster: CONFIG_MAP). */
  authenticationMode?: string;
  endpointPublic?: boolean;
  endpointPrivate?: boolean;
  publicAccessCidrs?: string[];
  version?: string;
  nodegroups?: string[];
  fargateProfiles?: string[];
  tags?: Record<string, string>;
}

export interface StartedBuild {
  readonly clientRegion: string;
  readonly projectName: string;
  readonly env: Record<string, string>;
}

const throttle = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
const denied = (what: string) =>
  Object.assign(new Error(`User is not authorized to perform ${what}`), {
    name: 'AccessDenied',
    $metadata: { httpStatusCode: 403 },
  });

/**
 * A stateful organization behind aws-sdk-client-mock: Organizations (a root with OUs), STS (one role
 * per member account; some accounts deny it), Account (enabled regions per account), EKS (clusters
 * per account × region, answering with the caller's account from its credentials and the client's
 * region), CodeBuild (records each StartBuild with the region of the client it went through), SQS
 * (records discovery messages) and the runs table (FakeDynamoTable). The real adapters of
 * src/eks/aws-deps.ts are wired over these mocks, so the wiring is exercised too.
 */
export class EksWorld {
  readonly orgs = mockClient(OrganizationsClient);
  readonly sts = mockClient(STSClient);
  readonly account = mockClient(AccountClient);
  eks: AwsClientStub<EKSClient>;
  readonly codeBuild = mockClient(CodeBuildClient);
  readonly sqs = mockClient(SQSClient);
  readonly serviceQuotas = mockClient(ServiceQuotasClient);
  /** The home account's CodeBuild concurrent-build quota (Service Quotas); undefined: never adjusted. */
  codeBuildQuota: number | undefined = 60;
  readonly dynamo = new FakeDynamoTable(TABLE);
  readonly table = new DynamoRunsTable(this.dynamo.client, TABLE);

  /** Parent → accounts (State) and child OUs. */
  readonly parents = new Map<string, { accounts: { id: string; state: string }[]; ous: string[] }>();
  readonly enabledRegions = new Map<string, string[]>();
  defaultEnabledRegions = ['us-east-1', 'us-west-2', 'eu-west-1'];
  readonly clusters = new Map<string, FakeCluster[]>();
  readonly deniedAccounts = new Set<string>();
  /** Account → how many of its next EKS calls answer ThrottlingException. */
  readonly throttleNext = new Map<string, number>();
  /** Milliseconds each EKS call takes. */
  eksLatencyMs = 0;
  readonly builds: StartedBuild[] = [];
  readonly queued: string[][] = [];
  /** EKS calls per account. */
  readonly eksCalls = new Map<string, number>();
  failQueue = false;
  private buildCounter = 0;

  settings: EksFunctionSettings = {
    partition: 'aws',
    homeAccountId: HOME_ACCOUNT,
    homeRegion: HOME_REGION,
    targets: ['r-root'],
    excludeAccounts: [],
    regions: ['us-east-1', 'us-west-2', 'eu-west-1'],
    executionRoleName: ROLE_NAME,
    concurrency: 8,
    lockTtlSeconds: 3600,
  };

  constructor() {
    this.orgs.on(ListAccountsForParentCommand).callsFake((input: { ParentId: string }) => ({
      Accounts: (this.parents.get(input.ParentId)?.accounts ?? []).map((a) => ({
        Id: a.id,
        Name: `acct-${a.id}`,
        State: a.state,
      })),
    }));
    this.orgs.on(ListOrganizationalUnitsForParentCommand).callsFake((input: { ParentId: string }) => ({
      OrganizationalUnits: (this.parents.get(input.ParentId)?.ous ?? []).map((Id) => ({ Id })),
    }));
    this.sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
      const account = /^arn:aws:iam::(\d{12}):role\//.exec(input.RoleArn)?.[1] ?? '';
      if (input.RoleArn !== `arn:aws:iam::${account}:role/${ROLE_NAME}`)
        throw new Error(`unexpected role ${input.RoleArn}`);
      if (this.deniedAccounts.has(account)) throw denied('sts:AssumeRole');
      return {
        Credentials: {
          AccessKeyId: `ASIA${account}`,
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: new Date(Date.now() + 3_600_000),
        },
      };
    });
    this.account.on(ListRegionsCommand).callsFake(async (_input: unknown, getClient: () => AccountClient) => {
      const account = await callerAccount(getClient());
      return {
        Regions: (this.enabledRegions.get(account) ?? this.defaultEnabledRegions).map((RegionName) => ({
          RegionName,
          RegionOptStatus: 'ENABLED',
        })),
      };
    });
    this.eks = this.mockEks();
    this.codeBuild
      .on(StartBuildCommand)
      .callsFake(
        async (
          input: { projectName: string; environmentVariablesOverride?: { name: string; value: string }[] },
          getClient: () => CodeBuildClient,
        ) => {
          const clientRegion = await getClient().config.region();
          this.buildCounter += 1;
          this.builds.push({
            clientRegion,
            projectName: input.projectName,
            env: Object.fromEntries((input.environmentVariablesOverride ?? []).map((v) => [v.name, v.value])),
          });
          return { build: { id: `${input.projectName}:build-${this.buildCounter}` } };
        },
      );
    this.serviceQuotas
      .on(GetServiceQuotaCommand)
      .callsFake((input: { ServiceCode: string; QuotaCode: string }) => {
        if (input.ServiceCode !== 'codebuild') throw new Error(`unexpected quota ${input.ServiceCode}`);
        if (this.codeBuildQuota === undefined)
          throw Object.assign(new Error('no applied quota'), { name: 'NoSuchResourceException' });
        return {
          Quota: { ServiceCode: 'codebuild', QuotaCode: input.QuotaCode, Value: this.codeBuildQuota },
        };
      });
    this.serviceQuotas.on(GetAWSDefaultServiceQuotaCommand).resolves({ Quota: { Value: 20 } });
    this.sqs
      .on(SendMessageBatchCommand)
      .callsFake((input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
        if (input.QueueUrl !== QUEUE_URL) throw new Error(`unexpected queue ${input.QueueUrl}`);
        if (this.failQueue)
          return {
            Successful: [],
            Failed: input.Entries.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
          };
        for (const e of input.Entries)
          this.queued.push(
            e.MessageBody ? (JSON.parse(e.MessageBody) as { accounts: string[] }).accounts : [],
          );
        return {
          Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
          Failed: [],
        };
      });
  }

  /**
   * (Re)installs the EKS side of the world: member clusters by account and region. Called by the
   * constructor; again by a test after another fake (the deployer harness) had EKS to itself.
   */
  mockEks(): AwsClientStub<EKSClient> {
    this.eks = mockClient(EKSClient);
    const where = async (getClient: () => EKSClient) => {
      const client = getClient();
      const account = await callerAccount(client);
      const region = await client.config.region();
      this.eksCalls.set(account, (this.eksCalls.get(account) ?? 0) + 1);
      if (!(this.enabledRegions.get(account) ?? this.defaultEnabledRegions).includes(region)) {
        // What AWS answers in an opt-in region the account has not enabled.
        throw Object.assign(new Error('The security token included in the request is invalid.'), {
          name: 'UnrecognizedClientException',
          $metadata: { httpStatusCode: 403 },
        });
      }
      if (this.eksLatencyMs > 0) await new Promise((r) => setTimeout(r, this.eksLatencyMs));
      const throttled = this.throttleNext.get(account) ?? 0;
      if (throttled > 0) {
        this.throttleNext.set(account, throttled - 1);
        throw throttle();
      }
      return { account, region, clusters: this.clusters.get(`${account}#${region}`) ?? [] };
    };
    const find = (clusters: FakeCluster[], name: string) => {
      const c = clusters.find((x) => x.name === name);
      if (!c)
        throw new ResourceNotFoundException({
          message: `No cluster found for name: ${name}.`,
          $metadata: {},
        });
      return c;
    };
    this.eks.on(ListClustersCommand).callsFake(async (_i: unknown, getClient: () => EKSClient) => ({
      clusters: (await where(getClient)).clusters.map((c) => c.name),
    }));
    this.eks
      .on(DescribeClusterCommand)
      .callsFake(async (input: { name: string }, getClient: () => EKSClient) => {
        const w = await where(getClient);
        const c = find(w.clusters, input.name);
        return {
          cluster: {
            name: c.name,
            arn: `arn:aws:eks:${w.region}:${w.account}:cluster/${c.name}`,
            status: c.status ?? 'ACTIVE',
            version: c.version ?? '1.31',
            endpoint: `https://${c.name}.gr7.${w.region}.eks.amazonaws.com`,
            resourcesVpcConfig: {
              endpointPublicAccess: c.endpointPublic ?? true,
              endpointPrivateAccess: c.endpointPrivate ?? false,
              publicAccessCidrs: c.publicAccessCidrs ?? ['0.0.0.0/0'],
            },
            ...(c.authenticationMode === undefined
              ? {}
              : { accessConfig: { authenticationMode: c.authenticationMode } }),
            ...(c.tags ? { tags: { ...c.tags } } : {}),
          },
        };
      });
    this.eks
      .on(ListNodegroupsCommand)
      .callsFake(async (input: { clusterName: string }, getClient: () => EKSClient) => ({
        nodegroups: find((await where(getClient)).clusters, input.clusterName).nodegroups ?? [],
      }));
    this.eks
      .on(ListFargateProfilesCommand)
      .callsFake(async (input: { clusterName: string }, getClient: () => EKSClient) => ({
        fargateProfileNames: find((await where(getClient)).clusters, input.clusterName).fargateProfiles ?? [],
      }));
    return this.eks;
  }

  /** Adds accounts (ACTIVE unless given) under a parent, creating the parent. */
  addAccounts(parent: string, ids: string[], state = 'ACTIVE'): void {
    const p = this.parent(parent);
    for (const id of ids) p.accounts.push({ id, state });
  }

  addOu(parent: string, ou: string): void {
    this.parent(parent).ous.push(ou);
    this.parent(ou);
  }

  addCluster(account: string, region: string, cluster: FakeCluster): FakeCluster {
    const key = `${account}#${region}`;
    this.clusters.set(key, [...(this.clusters.get(key) ?? []), cluster]);
    return cluster;
  }

  env(): Record<string, string> {
    return {
      [EKS_FUNCTION_ENV.settings]: JSON.stringify(this.settings),
      [EKS_FUNCTION_ENV.runsTable]: TABLE,
      [EKS_FUNCTION_ENV.deployerProject]: PROJECT,
      [EKS_FUNCTION_ENV.discoveryQueueUrl]: QUEUE_URL,
    };
  }

  /** The real adapters over the mocked clients (one set per handler, like a cold start). */
  services = (env: EksEnvironment) => createEksServices(env, this.homeClients(), 'falcon-org-test');

  homeClients(): EksHomeClients {
    const creds = { accessKeyId: `AKIA${HOME_ACCOUNT}`, secretAccessKey: 'home' };
    return {
      sts: new STSClient({ region: HOME_REGION, credentials: creds }),
      organizations: new OrganizationsClient({ region: HOME_REGION, credentials: creds }),
      dynamo: new DynamoDBClient({ region: HOME_REGION, credentials: creds }),
      codeBuild: new CodeBuildClient({ region: HOME_REGION, credentials: creds }),
      sqs: new SQSClient({ region: HOME_REGION, credentials: creds }),
      serviceQuotas: new ServiceQuotasClient({ region: HOME_REGION, credentials: creds }),
    };
  }

  context(remainingMs = 900_000): LambdaContext {
    const deadline = Date.now() + remainingMs;
    return {
      invokedFunctionArn: `arn:aws:lambda:${HOME_REGION}:${HOME_ACCOUNT}:function:falcon-org-eks`,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
  }

  reset(): void {
    for (const m of [
      this.orgs,
      this.sts,
      this.account,
      this.eks,
      this.codeBuild,
      this.sqs,
      this.serviceQuotas,
    ])
      m.restore();
    this.dynamo.reset();
  }

  private parent(id: string) {
    let p = this.parents.get(id);
    if (!p) {
      p = { accounts: [], ous: [] };
      this.parents.set(id, p);
    }
    return p;
  }
}

/** The member account whose credentials signed a call (the fake STS encodes it in the key ID). */
async function callerAccount(client: { config: { credentials: unknown } }): Promise<string> {
  const provider = client.config.credentials as () => Promise<{ accessKeyId: string }>;
  const creds = await provider();
  const account = /^ASIA(\d{12})$/.exec(creds.accessKeyId)?.[1];
  if (!account) throw new Error(`call not signed with member credentials (${creds.accessKeyId})`);
  return account;
}

/** A CloudTrail management event of EKS as a member rule forwards it to the central bus. */
export function cloudTrailEvent(
  where: { readonly account: string; readonly region: string },
  eventName: string,
  requestParameters: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
) {
  return {
    version: '0',
    id: `evt-${Math.random()}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.eks',
    account: where.account,
    time: '2026-11-29T19:00:00Z',
    region: where.region,
    resources: [],
    detail: {
      eventVersion: '1.09',
      eventSource: 'eks.amazonaws.com',
      eventName,
      awsRegion: where.region,
      recipientAccountId: where.account,
      requestParameters,
      responseElements: { cluster: { status: 'CREATING' } },
    },
    ...overrides,
  };
}
