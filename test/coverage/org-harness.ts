/**
 * A small AWS organization for coverage tests, faked at the SDK level (aws-sdk-client-mock): who a
 * member call is for comes from the client itself (its region, and the access key STS issued for the
 * account's coverage role), so the unchanged adapters run against per-account, per-region state.
 */
import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import {
  AccountNotFoundException,
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  DescribeAutomationExecutionsCommand,
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  ListAssociationsCommand,
  DescribeInstanceAssociationsStatusCommand,
  ListResourceComplianceSummariesCommand,
  ParameterNotFound,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { OwnershipRecord } from '../../src/ecr/ownership.js';

export const PARTITION = 'aws';
export const HOME_REGION = 'us-east-1';
export const READ_ROLE = 'falcon-org-coverage-read';
export const OWNERSHIP_PARAMETER = '/falcon-org/ecr-connections/ownership';
export const ASSOCIATION_NAME = 'falcon-org-falcon-sensor';
export const DEPLOYMENT_ID = 'falcon-org';

export interface FakeInstance {
  readonly id: string;
  readonly name?: string;
  /** SSM ping status when SSM manages it. */
  readonly ssm?: 'Online' | 'ConnectionLost';
  /** Association compliance of this deployment's association. */
  readonly compliance?: 'COMPLIANT' | 'NON_COMPLIANT';
  /** EKS cluster it is a node of (tag `eks:cluster-name`, as managed node groups set it). */
  readonly eksCluster?: string;
  readonly launchTime?: Date;
}

/** An automation execution of the region, as DescribeAutomationExecutions lists it. */
export interface FakeAutomation {
  readonly id: string;
  readonly document: string;
  readonly status: 'Success' | 'Failed' | 'TimedOut';
  readonly start: string;
  /** Set on the rate-controlled parent an association started. */
  readonly associationId?: string;
  /** Set on the per-instance child executions. */
  readonly parentId?: string;
  readonly failureMessage?: string;
}

export interface FakeRegion {
  instances: FakeInstance[];
  association?: { id: string; status: string };
  /** Automation executions of the region (newest last). */
  automations?: FakeAutomation[];
  clusters: string[];
  /** Calls of this service in this region fail with AccessDenied. */
  deny?: 'ec2' | 'ssm' | 'eks';
  /** The next N calls in this region answer ThrottlingException. */
  throttle?: number;
}

export interface FakeAccount {
  readonly id: string;
  readonly name: string;
  readonly parent: string;
  state: 'ACTIVE' | 'SUSPENDED';
  /** False: the coverage role is missing or does not trust the caller. */
  assumable: boolean;
  enabledRegions: string[];
  regions: Record<string, FakeRegion>;
  ownership?: OwnershipRecord;
}

function denied(what: string): Error {
  const error = new Error(`User is not authorized to perform: ${what}`);
  error.name = 'AccessDeniedException';
  return error;
}

export class FakeOrganization {
  readonly accounts = new Map<string, FakeAccount>();
  /** OU tree: parent → child OU IDs. */
  readonly ous = new Map<string, string[]>();
  /** Calls per member service, for counting. */
  readonly calls: { account: string; region: string; command: string }[] = [];
  /** Throttling answers given. */
  throttled = 0;
  /** The organization's management account (DescribeOrganization names none when unset). */
  managementAccountId: string | undefined;

  readonly organizations = mockClient(OrganizationsClient);
  readonly sts = mockClient(STSClient);
  readonly ec2 = mockClient(EC2Client);
  readonly ssm = mockClient(SSMClient);
  readonly eks = mockClient(EKSClient);
  readonly account = mockClient(AccountClient);

  constructor() {
    this.organizations.on(ListAccountsForParentCommand).callsFake((input: { ParentId: string }) => ({
      Accounts: [...this.accounts.values()]
        .filter((a) => a.parent === input.ParentId)
        .map((a) => ({ Id: a.id, Name: a.name, State: a.state })),
    }));
    this.organizations
      .on(ListOrganizationalUnitsForParentCommand)
      .callsFake((input: { ParentId: string }) => ({
        OrganizationalUnits: (this.ous.get(input.ParentId) ?? []).map((Id) => ({ Id })),
      }));
    this.organizations.on(DescribeOrganizationCommand).callsFake(() => ({
      Organization: { Id: 'o-a1b2c3d4e5', MasterAccountId: this.managementAccountId, FeatureSet: 'ALL' },
    }));
    this.organizations.on(DescribeAccountCommand).callsFake((input: { AccountId: string }) => {
      const a = this.accounts.get(input.AccountId);
      if (a === undefined) {
        throw new AccountNotFoundException({
          message: `account ${input.AccountId} not found`,
          $metadata: {},
        });
      }
      return { Account: { Id: a.id, Name: a.name, State: a.state } };
    });
    this.sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
      const match = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(input.RoleArn);
      const account = match ? this.accounts.get(match[1] ?? '') : undefined;
      if (account === undefined || !account.assumable || match?.[2] !== READ_ROLE) {
        throw denied(`sts:AssumeRole on resource: ${input.RoleArn}`);
      }
      return {
        Credentials: {
          AccessKeyId: `ASIA${account.id}`,
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: new Date(Date.now() + 3_600_000),
        },
      };
    });
    this.account.on(ListRegionsCommand).callsFake(async (_input, getClient) => {
      const { account } = await this.who(getClient, 'ListRegions');
      return {
        Regions: account.enabledRegions.map((RegionName) => ({ RegionName, RegionOptStatus: 'ENABLED' })),
      };
    });
    this.ec2.on(DescribeInstancesCommand).callsFake(async (_input, getClient) => {
      const region = await this.regionOf(getClient, 'DescribeInstances', 'ec2');
      return {
        Reservations: [
          {
            Instances: region.instances.map((i) => ({
              InstanceId: i.id,
              PlatformDetails: 'Linux/UNIX',
              Tags: [
                ...(i.name !== undefined ? [{ Key: 'Name', Value: i.name }] : []),
                ...(i.eksCluster !== undefined ? [{ Key: 'eks:cluster-name', Value: i.eksCluster }] : []),
              ],
              ...(i.launchTime !== undefined ? { LaunchTime: i.launchTime } : {}),
            })),
          },
        ],
      };
    });
    this.ssm.on(DescribeInstanceInformationCommand).callsFake(async (_input, getClient) => {
      const region = await this.regionOf(getClient, 'DescribeInstanceInformation', 'ssm');
      return {
        InstanceInformationList: region.instances
          .filter((i) => i.ssm !== undefined)
          .map((i) => ({ InstanceId: i.id, PingStatus: i.ssm })),
      };
    });
    this.ssm
      .on(ListAssociationsCommand)
      .callsFake(async (input: { AssociationFilterList?: { key: string; value: string }[] }, getClient) => {
        const region = await this.regionOf(getClient, 'ListAssociations', 'ssm');
        const wanted = input.AssociationFilterList?.find((f) => f.key === 'AssociationName')?.value;
        const a = region.association;
        if (a === undefined || wanted !== ASSOCIATION_NAME) return { Associations: [] };
        return {
          Associations: [
            {
              AssociationId: a.id,
              AssociationName: ASSOCIATION_NAME,
              Name: 'CrowdStrike-FalconSensorDeploy',
              Overview: { Status: a.status },
              LastExecutionDate: new Date('2026-11-29T06:00:00Z'),
            },
          ],
        };
      });
    this.ssm
      .on(DescribeAutomationExecutionsCommand)
      .callsFake(async (input: { Filters?: { Key: string; Values: string[] }[] }, getClient) => {
        const region = await this.regionOf(getClient, 'DescribeAutomationExecutions', 'ssm');
        const filter = (key: string) => input.Filters?.find((f) => f.Key === key)?.Values;
        const prefix = filter('DocumentNamePrefix')?.[0] ?? '';
        const statuses = filter('ExecutionStatus');
        return {
          AutomationExecutionMetadataList: (region.automations ?? [])
            .filter((e) => e.document.startsWith(prefix) && (statuses?.includes(e.status) ?? true))
            .map((e) => ({
              AutomationExecutionId: e.id,
              DocumentName: e.document,
              AutomationExecutionStatus: e.status,
              ExecutionStartTime: new Date(e.start),
              ...(e.associationId !== undefined ? { AssociationId: e.associationId } : {}),
              ...(e.parentId !== undefined ? { ParentAutomationExecutionId: e.parentId } : {}),
              ...(e.failureMessage !== undefined ? { FailureMessage: e.failureMessage } : {}),
            })),
        };
      });
    // Summaries over every association of an instance; another association that failed makes the
    // instance NON_COMPLIANT, which must not count against this deployment's association.
    this.ssm.on(ListResourceComplianceSummariesCommand).callsFake(async (_input, getClient) => {
      const region = await this.regionOf(getClient, 'ListResourceComplianceSummaries', 'ssm');
      return {
        ResourceComplianceSummaryItems: region.instances
          .filter((i) => i.compliance !== undefined && region.association !== undefined)
          .map((i) => ({
            ComplianceType: 'Association',
            ResourceType: 'ManagedInstance',
            ResourceId: i.id,
            Status: 'NON_COMPLIANT',
          })),
      };
    });
    this.ssm
      .on(DescribeInstanceAssociationsStatusCommand)
      .callsFake(async (input: { InstanceId: string }, getClient) => {
        const region = await this.regionOf(getClient, 'DescribeInstanceAssociationsStatus', 'ssm');
        const instance = region.instances.find((i) => i.id === input.InstanceId);
        const id = region.association?.id;
        if (instance?.compliance === undefined || id === undefined)
          return { InstanceAssociationStatusInfos: [] };
        return {
          InstanceAssociationStatusInfos: [
            { AssociationId: 'other-assoc', InstanceId: instance.id, Status: 'Failed' },
            {
              AssociationId: id,
              InstanceId: instance.id,
              Status: instance.compliance === 'COMPLIANT' ? 'Success' : 'Failed',
            },
          ],
        };
      });
    this.ssm.on(GetParameterCommand).callsFake(async (input: { Name: string }, getClient) => {
      const { account, region } = await this.who(getClient, 'GetParameter');
      if (region !== HOME_REGION || input.Name !== OWNERSHIP_PARAMETER || account.ownership === undefined) {
        throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      }
      return { Parameter: { Name: input.Name, Value: JSON.stringify(account.ownership) } };
    });
    this.eks.on(ListClustersCommand).callsFake(async (_input, getClient) => {
      const region = await this.regionOf(getClient, 'ListClusters', 'eks');
      return { clusters: region.clusters };
    });
  }

  addAccount(
    account: Omit<FakeAccount, 'state' | 'assumable' | 'enabledRegions'> & Partial<FakeAccount>,
  ): FakeAccount {
    const full: FakeAccount = {
      state: 'ACTIVE',
      assumable: true,
      enabledRegions: Object.keys(account.regions),
      ...account,
    };
    this.accounts.set(full.id, full);
    return full;
  }

  restore(): void {
    for (const m of [this.organizations, this.sts, this.ec2, this.ssm, this.eks, this.account]) m.restore();
  }

  memberCalls(account: string): number {
    return this.calls.filter((c) => c.account === account).length;
  }

  private async who(
    getClient: () => { config: { region: unknown; credentials: unknown } },
    command: string,
  ): Promise<{ account: FakeAccount; region: string }> {
    const config = getClient().config as {
      region: () => Promise<string>;
      credentials: () => Promise<{ accessKeyId: string }>;
    };
    const region = await config.region();
    const { accessKeyId } = await config.credentials();
    const account = this.accounts.get(accessKeyId.replace(/^ASIA/, ''));
    if (account === undefined) throw denied(`${command}: unknown credentials`);
    this.calls.push({ account: account.id, region, command });
    return { account, region };
  }

  private async regionOf(
    getClient: () => { config: { region: unknown; credentials: unknown } },
    command: string,
    service: FakeRegion['deny'],
  ): Promise<FakeRegion> {
    const { account, region } = await this.who(getClient, command);
    const state = account.regions[region];
    if (state === undefined) throw denied(`${command} in ${region}: region not enabled`);
    if (state.deny === service) throw denied(`${service}:${command}`);
    if (state.throttle !== undefined && state.throttle > 0) {
      state.throttle -= 1;
      this.throttled += 1;
      const error = new Error('Rate exceeded');
      error.name = 'ThrottlingException';
      throw error;
    }
    return state;
  }
}
