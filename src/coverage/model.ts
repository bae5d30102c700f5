/*
 * The coverage report: what is protected where and why, per account × region × feature.
 * Everything here is data and the narrow ports the core reads through; no I/O.
 *
 * The JSON document is versioned by `schemaVersion`: fields may be added within a version, never
 * renamed or removed. `falcon-org status --json` prints a `CoverageReport` (every cell with its
 * items); `latest.json` is its `CoverageSummary` (cells without items) and the items of each account
 * are stored beside it (`details`), so a 1,000-account report stays small enough to download casually.
 * Version 2 moved the items out of `latest.json` (version 1 held them inline).
 */

import type { AccessDenial } from './access-denied.js';
import type { OrganizationDirectory } from '../aws/organization-scope.js';
import type { CoverageFeature } from '../config/coverage-schema.js';
import type { ManagementAccountReach } from '../config/management-account.js';
import type { OwnershipRecord } from '../ecr/ownership.js';
import type { RunsTableItem } from '../eks/runs-table.js';
import type { FalconHostEntity } from '../falcon/hosts.js';

export { COVERAGE_FEATURES, type CoverageFeature } from '../config/coverage-schema.js';

/** Version of the report layout. Bump on any incompatible change. */
export const COVERAGE_SCHEMA_VERSION = 2;

/**
 * State of a cell (and of an item in it):
 * - `protected`: everything in it is protected, as Falcon itself confirms where it can;
 * - `partial`: some items are protected, some are not (unprotected or unknown);
 * - `unprotected`: there is something to protect, none of it is protected and at least one item is
 *   known unprotected (other items may be unknown);
 * - `not-applicable`: nothing to protect here (no instances, no clusters);
 * - `unknown`: could not be read (the reason says why).
 */
export type CoverageState = 'protected' | 'partial' | 'unprotected' | 'not-applicable' | 'unknown';
export const COVERAGE_STATES: readonly CoverageState[] = [
  'protected',
  'partial',
  'unprotected',
  'not-applicable',
  'unknown',
];

/**
 * State of one item (an instance, a registry, a cluster). Only a cluster can be `partial`: some of its
 * nodes report to Falcon and others do not, or some of its Fargate namespaces get no sidecar.
 */
export type ItemState = 'protected' | 'partial' | 'unprotected' | 'not-applicable' | 'unknown';

/** Stable reason codes (the text is for people and may change). */
export type ReasonCode =
  // reading
  | 'account-unreadable'
  | 'account-excluded'
  | 'management-account-unreached'
  | 'region-unreadable'
  | 'falcon-unreadable'
  // SSM Distributor + Falcon truth
  | 'no-association'
  | 'association-failed'
  | 'association-access-denied'
  | 'association-pending'
  | 'not-ssm-managed'
  | 'ssm-offline'
  | 'not-compliant'
  | 'installed-not-reporting'
  | 'reporting'
  | 'sensor-stale'
  | 'no-instances'
  // ECR
  | 'no-connection'
  | 'connection-not-owned'
  | 'connection-state'
  | 'connected'
  // EKS
  | 'no-clusters'
  | 'not-deployed'
  | 'ineligible'
  | 'opted-out'
  | 'run-failed'
  | 'run-in-progress'
  | 'nodes-not-reporting'
  | 'nodes-partly-reporting'
  | 'nodes-starting'
  | 'fargate-not-injected'
  | 'no-nodes'
  | 'nodes-reporting'
  | 'deployed';

export interface CoverageReason {
  readonly code: ReasonCode;
  /** One sentence for people: what is wrong and, where there is one, what to do. */
  readonly text: string;
}

/** Small facts about an item, for the details view (all strings, numbers or booleans). */
export type ItemFacts = Readonly<Record<string, string | number | boolean>>;

/** One thing judged in a cell: an EC2 instance, the account's registry in the region, an EKS cluster. */
export interface CoverageItem {
  readonly kind: 'instance' | 'registry' | 'cluster';
  /** Instance ID, registry URL or cluster name. */
  readonly id: string;
  readonly name?: string;
  readonly state: ItemState;
  readonly reasons: readonly CoverageReason[];
  readonly facts: ItemFacts;
}

/** How many items of a cell are in each item state. */
export interface CellCounts {
  readonly total: number;
  readonly protected: number;
  /** Items partly protected (clusters only). Absent in reports written before it was added. */
  readonly partial: number;
  readonly unprotected: number;
  readonly notApplicable: number;
  readonly unknown: number;
}

export interface CoverageCell {
  readonly accountId: string;
  readonly region: string;
  readonly feature: CoverageFeature;
  readonly state: CoverageState;
  readonly counts: CellCounts;
  /** Reasons of the cell as a whole, most important first (e.g. why it is not protected). */
  readonly reasons: readonly CoverageReason[];
  readonly items: readonly CoverageItem[];
}

export interface ScopeAccount {
  readonly id: string;
  readonly name?: string;
  /** The root or OU the account sits in directly. */
  readonly parent?: string;
}

/** The accounts in the report and, for each one that could not be read at all, why. */
export interface ReportAccount extends ScopeAccount {
  readonly readable: boolean;
  readonly reason?: CoverageReason;
  /** The root or OU the account sits in directly (absent in reports made before version 2). */
  readonly parent?: string;
  /**
   * Listed but not read, with the reason (`account-excluded`): the organization's management account
   * when it is not in scope (excluded, or not under the targets). It has no cells; an account in scope
   * that could not be read is `readable: false` without `excluded`.
   */
  readonly excluded?: boolean;
}

export interface ReportScope {
  readonly partition: string;
  readonly homeAccountId?: string;
  readonly homeRegion: string;
  /** Root or OU IDs whose accounts are in scope. */
  readonly targets: readonly string[];
  readonly excludeAccounts: readonly string[];
  /** Applied `--account` filter, if any. */
  readonly accountFilter?: readonly string[];
  readonly features: readonly CoverageFeature[];
}

/** Per feature: how many cells are in each state (features not in the report count zero everywhere). */
export type CoverageTotals = Readonly<Record<CoverageFeature, Readonly<Record<CoverageState, number>>>>;

/** A cell without its items: what `latest.json`, the heatmap grid and the metrics need. */
export type CellSummary = Omit<CoverageCell, 'items'>;

/** Where the items of a summary's cells are (`latest.json`: one object per account beside it). */
export interface DetailsLocation {
  /** `per-account`: `<prefix><accountId>.json`, each an `AccountDetails` document. */
  readonly layout: 'per-account';
  /** Object key prefix in the same bucket, e.g. `reports/2026/11/29/<timestamp>/accounts/`. */
  readonly prefix: string;
}

/** The items of one account's cells (the objects `details` points at). */
export interface AccountDetails {
  readonly schemaVersion: typeof COVERAGE_SCHEMA_VERSION;
  readonly generatedAt: string;
  readonly account: ReportAccount;
  readonly cells: readonly Pick<CoverageCell, 'feature' | 'region' | 'items'>[];
}

/** The report without items (`latest.json`); `details` says where the items are. */
export interface CoverageSummary extends Omit<CoverageReport, 'cells'> {
  readonly cells: readonly CellSummary[];
  readonly details?: DetailsLocation;
}

export interface CoverageReport {
  readonly schemaVersion: typeof COVERAGE_SCHEMA_VERSION;
  /** ISO 8601. */
  readonly generatedAt: string;
  readonly scope: ReportScope;
  readonly accounts: readonly ReportAccount[];
  /** Every region that appears in a cell, sorted. */
  readonly regions: readonly string[];
  /** Sorted by feature, account, region. */
  readonly cells: readonly CoverageCell[];
  readonly totals: CoverageTotals;
  /** True when every cell is `protected` or `not-applicable`. */
  readonly allProtected: boolean;
  /** OU IDs → names, for the accounts' `parent` (as far as the organization was read). */
  readonly ous?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Ports: what the core reads through. Adapters live in aws-deps.ts (AWS SDK v3, Falcon API).
// ---------------------------------------------------------------------------------------------

export interface Ec2Instance {
  readonly instanceId: string;
  readonly name?: string;
  readonly platform?: string;
  /**
   * EKS cluster the instance is a node of (tags `eks:cluster-name`, `eks:eks-cluster-name` or
   * `kubernetes.io/cluster/<name>`).
   */
  readonly eksCluster?: string;
  /** When the instance was launched (ISO 8601), to give a new node time to report to Falcon. */
  readonly launchedAt?: string;
}

export interface ManagedInstance {
  readonly instanceId: string;
  /** SSM ping status: "Online", "ConnectionLost", "Inactive". */
  readonly pingStatus: string;
}

export interface AssociationInfo {
  readonly associationId: string;
  readonly associationName?: string;
  /** Overview status of the last execution: "Success", "Failed", "Pending", … */
  readonly lastExecutionStatus?: string;
  readonly lastExecutionDate?: string;
  /** Why the latest failed automation execution of the association failed, when it was read. */
  readonly failure?: AssociationFailure;
}

/** The latest failed automation execution of an association and what it failed on. */
export interface AssociationFailure {
  readonly executionId: string;
  /** Automation's FailureMessage, cut to a readable length. */
  readonly message: string;
  /** The action IAM refused, when the failure was a denial (a gap in the automation role). */
  readonly accessDenied?: AccessDenial;
}

/** Association compliance of one instance: "COMPLIANT", "NON_COMPLIANT", … */
export interface AssociationCompliance {
  readonly instanceId: string;
  readonly status: string;
}

/** Read-only view of one member account, through its coverage role. */
export interface AccountReader {
  /** Regions enabled for the account (used when a feature is configured for "every region"). */
  enabledRegions(signal?: AbortSignal): Promise<readonly string[]>;
  /** Running EC2 instances of the region. */
  runningInstances(region: string, signal?: AbortSignal): Promise<readonly Ec2Instance[]>;
  /** Instances SSM manages in the region. */
  managedInstances(region: string, signal?: AbortSignal): Promise<readonly ManagedInstance[]>;
  /** This deployment's Distributor association in the region, or undefined when there is none. */
  association(region: string, name: string, signal?: AbortSignal): Promise<AssociationInfo | undefined>;
  /** Per-instance association compliance of the given association. */
  associationCompliance(
    region: string,
    associationId: string,
    signal?: AbortSignal,
  ): Promise<readonly AssociationCompliance[]>;
  /** EKS cluster names of the region. */
  clusters(region: string, signal?: AbortSignal): Promise<readonly string[]>;
  /** This deployment's ECR ownership record in the account (home region), if any. */
  ecrOwnership(signal?: AbortSignal): Promise<OwnershipRecord | undefined>;
}

/** Opens a reader per account; rejects when the account cannot be read at all (role not assumable). */
export interface AccountReaders {
  open(account: ScopeAccount, signal?: AbortSignal): Promise<AccountReader>;
}

/** A host as Falcon sees it: the fields of the device entity coverage reads (src/falcon/hosts.ts). */
export type FalconHost = FalconHostEntity;

/** Falcon's host inventory, queried per cloud account. */
export interface FalconHostsPort {
  /** Hosts Falcon sees in the given AWS account (all regions). */
  hostsInAccount(accountId: string, signal?: AbortSignal): Promise<readonly FalconHost[]>;
}

export interface RegistryConnectionInfo {
  readonly id: string;
  readonly url: string;
  readonly state?: string;
}

/** The tenant's registry connections (read once per report). */
export interface RegistryConnectionsPort {
  listConnections(signal?: AbortSignal): Promise<readonly RegistryConnectionInfo[]>;
}

/** The runs table of EKS protection (read once per report with a paged scan). */
export interface RunsTablePort {
  list(): Promise<readonly RunsTableItem[]>;
}

export interface CoverageDeps {
  /** Organizations, walked by the shared scope code (targets, nested OUs, ACTIVE, exclusions). */
  readonly directory: OrganizationDirectory;
  readonly readers: AccountReaders;
  readonly falconHosts: FalconHostsPort;
  readonly registries: RegistryConnectionsPort;
  /** Absent when EKS protection is not deployed: every cluster is then "not deployed". */
  readonly runsTable?: RunsTablePort;
  readonly now: () => Date;
}

/** Regions a feature is judged in: a list, or every region enabled for each account. */
export type FeatureRegions = readonly string[] | 'enabled';

export interface CoverageOptions {
  readonly scope: Omit<ReportScope, 'features' | 'accountFilter'>;
  /** Enabled features and their regions. */
  readonly features: Readonly<Partial<Record<CoverageFeature, FeatureRegions>>>;
  /** SSM association name of this deployment (same in every account and region). */
  readonly associationName: string;
  /** ECR ownership: the deployment ID this deployment records connections under. */
  readonly deploymentId: string;
  /** Only these accounts (the `--account` filter). */
  readonly accounts?: readonly string[];
  /** Accounts read at once. @default 8 */
  readonly concurrency?: number;
  /** Regions of one account read at once. @default 8 */
  readonly regionConcurrency?: number;
  /** A Falcon host last seen longer ago does not protect anything (`coverage.hostStaleAfterHours`). @default 24 */
  readonly hostStaleAfterHours?: number;
  /**
   * Whether this deployment reaches the organization's management account (src/config/management-account.ts):
   * says why it could not be read. @default - the management account is read like any other account
   */
  readonly managementAccount?: ManagementAccountReach;
  readonly signal?: AbortSignal;
}

/** The core entry point (src/coverage/build.ts). */
export type BuildCoverageReport = (deps: CoverageDeps, options: CoverageOptions) => Promise<CoverageReport>;
