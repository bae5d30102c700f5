import { AccountClient } from '@aws-sdk/client-account';
import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import {
  DescribeAutomationExecutionsCommand,
  DescribeInstanceAssociationsStatusCommand,
  DescribeInstanceInformationCommand,
  ListAssociationsCommand,
  ListResourceComplianceSummariesCommand,
  SSMClient,
  type AutomationExecutionMetadata,
} from '@aws-sdk/client-ssm';
import type { AccountCredentials, CredentialProvider } from '../aws/account-credentials.js';
import { AccountApiEnabledRegions, type EnabledRegions } from '../aws/account-regions.js';
import {
  createClient,
  createSharedConnections,
  type AwsClientConfig,
  type SharedConnections,
} from '../aws/clients.js';
import type { OwnershipRecord } from '../ecr/ownership.js';
import { SsmOwnershipStore } from '../ecr/ssm-ownership-store.js';
import { accessDenialIn } from './access-denied.js';
import type {
  AccountReader,
  AccountReaders,
  AssociationCompliance,
  AssociationFailure,
  AssociationInfo,
  Ec2Instance,
  ManagedInstance,
  ScopeAccount,
} from './model.js';

/** Pages of failed automation executions read to explain one failed association. */
const FAILURE_PAGES = 2;
/** Longest failure message kept in the report (Automation's include tracebacks). */
const MAX_FAILURE_MESSAGE = 500;

export interface AwsReadersSettings {
  readonly homeRegion: string;
  /** The deployment's ECR ownership parameter (same name in every account, home region). */
  readonly ownershipParameterName: string;
  /**
   * SDK attempts per call. @default 1: the report's adaptive budget (src/coverage/build.ts) is the one
   * layer that retries (throttling and transient failures), so tries do not multiply.
   */
  readonly maxAttempts?: number;
  /** Connections every client shares. @default one pool for these readers */
  readonly connections?: SharedConnections;
  /** @default account:ListRegions under the member's credentials */
  readonly enabledRegions?: EnabledRegions;
}

/**
 * `AccountReaders` over the AWS SDK v3: credentials of the member's coverage role (assumed once per
 * account, shared by every region); per account one client per service and region, made on first use
 * and dropped with the account's reader; every client sends through one shared pool of keep-alive
 * connections. Each call here is one action of the coverage role's policy
 * (src/infra/features/coverage/read-role.ts).
 */
export class AwsAccountReaders implements AccountReaders {
  private readonly enabled: EnabledRegions;
  private readonly settings: AwsReadersSettings & { readonly connections: SharedConnections };

  constructor(
    private readonly credentials: AccountCredentials,
    settings: AwsReadersSettings,
  ) {
    this.settings = { ...settings, connections: settings.connections ?? createSharedConnections() };
    const shared = this.settings;
    this.enabled =
      settings.enabledRegions ??
      new AccountApiEnabledRegions((_accountId, credentials) =>
        createClient(AccountClient, {
          region: 'us-east-1',
          credentials,
          maxAttempts: shared.maxAttempts ?? 1,
          connections: shared.connections,
        }),
      );
  }

  async open(account: ScopeAccount): Promise<AccountReader> {
    // Fails here (AssumeRoleError) when the role is missing or does not trust us: the account is unreadable.
    await this.credentials.get(account.id);
    return new AwsAccountReader(
      account.id,
      this.credentials.provider(account.id),
      this.settings,
      this.enabled,
    );
  }
}

class AwsAccountReader implements AccountReader {
  private readonly clients = new Map<string, unknown>();
  private readonly instances = new Map<string, Promise<readonly Ec2Instance[]>>();

  constructor(
    private readonly accountId: string,
    private readonly credentials: CredentialProvider,
    private readonly settings: AwsReadersSettings & { readonly connections: SharedConnections },
    private readonly enabled: EnabledRegions,
  ) {}

  private client<C>(Client: new (config: AwsClientConfig) => C, region: string): C {
    const key = `${Client.name}@${region}`;
    let client = this.clients.get(key) as C | undefined;
    if (client === undefined) {
      client = createClient(Client, {
        region,
        credentials: this.credentials,
        maxAttempts: this.settings.maxAttempts ?? 1,
        connections: this.settings.connections,
      });
      this.clients.set(key, client);
    }
    return client;
  }

  async enabledRegions(): Promise<readonly string[]> {
    return (await this.enabled.list(this.accountId, this.credentials)).sort();
  }

  /** Read once per region (SSM Distributor and EKS Protection both need them). */
  runningInstances(region: string, signal?: AbortSignal): Promise<readonly Ec2Instance[]> {
    let pending = this.instances.get(region);
    if (pending === undefined) {
      pending = this.readInstances(region, signal);
      this.instances.set(region, pending);
      pending.catch(() => this.instances.delete(region));
    }
    return pending;
  }

  private async readInstances(region: string, signal?: AbortSignal): Promise<readonly Ec2Instance[]> {
    const ec2 = this.client(EC2Client, region);
    const out: Ec2Instance[] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: 'instance-state-name', Values: ['running'] }],
          MaxResults: 1000,
          NextToken: token,
        }),
        { abortSignal: signal },
      );
      for (const reservation of page.Reservations ?? []) {
        for (const i of reservation.Instances ?? []) {
          if (i.InstanceId === undefined) continue;
          const name = i.Tags?.find((t) => t.Key === 'Name')?.Value;
          const platform = i.PlatformDetails ?? i.Platform;
          const eksCluster = clusterOf(i.Tags ?? []);
          out.push({
            instanceId: i.InstanceId,
            ...(name !== undefined && name !== '' ? { name } : {}),
            ...(platform !== undefined ? { platform } : {}),
            ...(eksCluster !== undefined ? { eksCluster } : {}),
            ...(i.LaunchTime !== undefined ? { launchedAt: i.LaunchTime.toISOString() } : {}),
          });
        }
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  async managedInstances(region: string, signal?: AbortSignal): Promise<readonly ManagedInstance[]> {
    const ssm = this.client(SSMClient, region);
    const out: ManagedInstance[] = [];
    let token: string | undefined;
    do {
      const page = await ssm.send(
        new DescribeInstanceInformationCommand({ MaxResults: 50, NextToken: token }),
        { abortSignal: signal },
      );
      for (const info of page.InstanceInformationList ?? []) {
        // Hybrid nodes (mi-…) are not EC2 instances.
        if (info.InstanceId?.startsWith('i-') === true) {
          out.push({ instanceId: info.InstanceId, pingStatus: info.PingStatus ?? 'Unknown' });
        }
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  async association(
    region: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<AssociationInfo | undefined> {
    const ssm = this.client(SSMClient, region);
    let token: string | undefined;
    do {
      const page = await ssm.send(
        new ListAssociationsCommand({
          AssociationFilterList: [{ key: 'AssociationName', value: name }],
          MaxResults: 50,
          NextToken: token,
        }),
        { abortSignal: signal },
      );
      const found = (page.Associations ?? []).find((a) => a.AssociationName === name && a.AssociationId);
      if (found?.AssociationId !== undefined) {
        const status = found.Overview?.Status;
        const failure =
          status === 'Failed' && found.Name !== undefined
            ? await this.latestFailure(region, found.Name, found.AssociationId, signal)
            : undefined;
        return {
          associationId: found.AssociationId,
          associationName: name,
          ...(status !== undefined ? { lastExecutionStatus: status } : {}),
          ...(found.LastExecutionDate !== undefined
            ? { lastExecutionDate: found.LastExecutionDate.toISOString() }
            : {}),
          ...(failure !== undefined ? { failure } : {}),
        };
      }
      token = page.NextToken;
    } while (token);
    return undefined;
  }

  /**
   * Why a failed association failed: the newest failed automation execution of its document that it
   * started (the rate-controlled parent carries the association ID; its per-instance children carry
   * the parent's ID and the specific message), preferring one that names an IAM denial. Reads at most
   * {@link FAILURE_PAGES} pages; undefined when none is found there.
   */
  private async latestFailure(
    region: string,
    documentName: string,
    associationId: string,
    signal?: AbortSignal,
  ): Promise<AssociationFailure | undefined> {
    const ssm = this.client(SSMClient, region);
    const failed: AutomationExecutionMetadata[] = [];
    let token: string | undefined;
    for (let page = 0; page < FAILURE_PAGES; page += 1) {
      const answer = await ssm.send(
        new DescribeAutomationExecutionsCommand({
          Filters: [
            { Key: 'DocumentNamePrefix', Values: [documentName] },
            { Key: 'ExecutionStatus', Values: ['Failed', 'TimedOut'] },
          ],
          MaxResults: 50,
          NextToken: token,
        }),
        { abortSignal: signal },
      );
      failed.push(...(answer.AutomationExecutionMetadataList ?? []));
      token = answer.NextToken;
      if (!token) break;
    }
    const parents = new Set(
      failed.filter((e) => e.AssociationId === associationId).map((e) => e.AutomationExecutionId),
    );
    const ours = failed
      .filter(
        (e) =>
          e.DocumentName === documentName &&
          e.AutomationExecutionId !== undefined &&
          (e.AssociationId === associationId || parents.has(e.ParentAutomationExecutionId)),
      )
      .sort((a, b) => (b.ExecutionStartTime?.getTime() ?? 0) - (a.ExecutionStartTime?.getTime() ?? 0));
    const chosen =
      ours.find((e) => accessDenialIn(e.FailureMessage ?? '') !== undefined) ??
      ours.find((e) => (e.FailureMessage ?? '') !== '');
    if (chosen?.AutomationExecutionId === undefined) return undefined;
    const message = chosen.FailureMessage ?? '';
    const accessDenied = accessDenialIn(message);
    return {
      executionId: chosen.AutomationExecutionId,
      message:
        message.length > MAX_FAILURE_MESSAGE ? `${message.slice(0, MAX_FAILURE_MESSAGE - 1)}…` : message,
      ...(accessDenied !== undefined ? { accessDenied } : {}),
    };
  }

  /**
   * Association compliance of the region's managed instances, read the way the API reference documents
   * for many resources at once: `ListResourceComplianceSummaries` filtered to compliance type
   * Association (one summary per instance, 50 a page). A summary is per instance, over all its
   * associations: COMPLIANT means every association there, this one included, is; for a NON_COMPLIANT
   * instance `DescribeInstanceAssociationsStatus` (one call per such instance) says whether this
   * association is the one that failed. An instance with no summary has no association result yet.
   */
  async associationCompliance(
    region: string,
    associationId: string,
    signal?: AbortSignal,
  ): Promise<readonly AssociationCompliance[]> {
    const ssm = this.client(SSMClient, region);
    const out: AssociationCompliance[] = [];
    const nonCompliant: string[] = [];
    let token: string | undefined;
    do {
      const page = await ssm.send(
        new ListResourceComplianceSummariesCommand({
          Filters: [
            { Key: 'ComplianceType', Values: ['Association'], Type: 'EQUAL' },
            { Key: 'ResourceType', Values: ['ManagedInstance'], Type: 'EQUAL' },
          ],
          MaxResults: 50,
          NextToken: token,
        }),
        { abortSignal: signal },
      );
      for (const item of page.ResourceComplianceSummaryItems ?? []) {
        const id = item.ResourceId;
        if (id?.startsWith('i-') !== true) continue;
        if (item.Status === 'COMPLIANT') out.push({ instanceId: id, status: 'COMPLIANT' });
        else if (item.Status === 'NON_COMPLIANT') nonCompliant.push(id);
      }
      token = page.NextToken;
    } while (token);
    for (const instanceId of nonCompliant) {
      const status = await this.associationStatusOn(ssm, instanceId, associationId, signal);
      if (status === 'Failed') out.push({ instanceId, status: 'NON_COMPLIANT' });
      else if (status === 'Success') out.push({ instanceId, status: 'COMPLIANT' });
    }
    return out;
  }

  /** This association's last status on one instance (`Success`, `Failed`, `Pending`), if it ran there. */
  private async associationStatusOn(
    ssm: SSMClient,
    instanceId: string,
    associationId: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    let token: string | undefined;
    do {
      const page = await ssm.send(
        new DescribeInstanceAssociationsStatusCommand({
          InstanceId: instanceId,
          MaxResults: 50,
          NextToken: token,
        }),
        { abortSignal: signal },
      );
      const mine = (page.InstanceAssociationStatusInfos ?? []).find((i) => i.AssociationId === associationId);
      if (mine !== undefined) return mine.Status;
      token = page.NextToken;
    } while (token);
    return undefined;
  }

  async clusters(region: string, signal?: AbortSignal): Promise<readonly string[]> {
    const eks = this.client(EKSClient, region);
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await eks.send(new ListClustersCommand({ maxResults: 100, nextToken: token }), {
        abortSignal: signal,
      });
      out.push(...(page.clusters ?? []));
      token = page.nextToken;
    } while (token);
    return out;
  }

  async ecrOwnership(): Promise<OwnershipRecord | undefined> {
    const ssm = this.client(SSMClient, this.settings.homeRegion);
    return new SsmOwnershipStore(ssm, this.settings.ownershipParameterName).load();
  }
}

/**
 * The EKS cluster an instance is a node of, from the tags EKS and its node tooling set: managed node
 * groups `eks:cluster-name`, Karpenter (v1) and EKS Auto Mode `eks:eks-cluster-name`, self-managed
 * nodes (eksctl, the cloud provider's convention) `kubernetes.io/cluster/<name>` = owned | shared.
 */
export function clusterOf(tags: readonly { Key?: string; Value?: string }[]): string | undefined {
  const named = new Set(['eks:cluster-name', 'eks:eks-cluster-name', 'aws:eks:cluster-name']);
  for (const tag of tags) {
    if (tag.Key !== undefined && named.has(tag.Key) && tag.Value) return tag.Value;
  }
  for (const tag of tags) {
    const match = /^kubernetes\.io\/cluster\/(.+)$/.exec(tag.Key ?? '');
    if (match?.[1] !== undefined && (tag.Value === 'owned' || tag.Value === 'shared')) return match[1];
  }
  return undefined;
}
