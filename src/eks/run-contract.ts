/*
 * The one small contract between EKS discovery/events (which start runs), the deployer (which
 * executes one run against one cluster) and the coverage report (which reads the outcome).
 * Everything here is data: names of environment variables, the runs-table item layout and the
 * result document. No I/O.
 */

import { SHARED_CLIENT_VARIABLES } from '../falcon/credentials.js';

/** Compute a cluster offers to workloads, as read from the EKS API. */
export type ComputeMode = 'nodes' | 'fargate' | 'mixed' | 'none';
export const COMPUTE_MODES: readonly ComputeMode[] = ['nodes', 'fargate', 'mixed', 'none'];

/**
 * What a deployer run does. `repair` only undoes what an earlier, killed run left on the cluster
 * (`ClusterChanges`), for a cluster that gets no install run (discovery starts it).
 */
export type RunMode = 'install' | 'uninstall' | 'repair';
export const RUN_MODES: readonly RunMode[] = ['install', 'uninstall', 'repair'];

/**
 * Environment overrides given to each CodeBuild run (per cluster). The run is always started in
 * the HOME region's project; `region` names the cluster's region.
 */
export const RUN_ENV = {
  accountId: 'FALCON_ORG_ACCOUNT_ID',
  region: 'FALCON_ORG_CLUSTER_REGION',
  cluster: 'FALCON_ORG_CLUSTER_NAME',
  compute: 'FALCON_ORG_COMPUTE',
  executionRoleArn: 'FALCON_ORG_EXECUTION_ROLE_ARN',
  runId: 'FALCON_ORG_RUN_ID',
  mode: 'FALCON_ORG_MODE',
} as const;

/** Environment set once on the CodeBuild project (same for every run). */
export const PROJECT_ENV = {
  /** Name of the runs table. */
  runsTable: 'FALCON_ORG_RUNS_TABLE',
  /** JSON of the non-secret deployer settings (`DeployerRunSettings`). */
  settings: 'FALCON_ORG_DEPLOYER_SETTINGS',
  /**
   * The clusters' Falcon API client (`falcon.clients.eksProtection`, else the shared one): Secrets
   * Manager references (CodeBuild env type SECRETS_MANAGER), never plaintext. Named as the shared
   * client's variables, since the run reads exactly one client.
   */
  clientId: SHARED_CLIENT_VARIABLES.clientId,
  clientSecret: SHARED_CLIENT_VARIABLES.clientSecret,
} as const;

/** What a run needs to know about its cluster, as given in `RUN_ENV`. */
export interface RunRequest {
  readonly accountId: string;
  readonly region: string;
  readonly cluster: string;
  readonly compute: ComputeMode;
  readonly executionRoleArn: string;
  readonly runId: string;
  readonly mode: RunMode;
}

/**
 * How a run ended. `already-protected` is the no-op re-run; `repaired` ends a `repair` run;
 * `opted-out` is an install run that found the cluster tagged `OPT_OUT_TAG` and changed nothing.
 */
export type RunOutcome =
  | 'protected'
  | 'already-protected'
  | 'upgraded'
  | 'uninstalled'
  | 'repaired'
  | 'not-reachable'
  | 'opted-out'
  | 'failed';

/**
 * The cluster tag that opts a cluster out of EKS Protection: discovery and events judge it
 * `opted-out` and start no run, the deployer installs nothing on it, and `falcon-org eks
 * deploy-cluster --uninstall` sets it (so the next sweep does not put Falcon back). The value is
 * compared case-insensitively; any other value, or no tag, means protected.
 */
export const OPT_OUT_TAG = { key: 'falcon-org/protect', value: 'false' } as const;

/** Whether a cluster's tags opt it out (see OPT_OUT_TAG). */
export function isOptedOut(tags: Readonly<Record<string, string>> | undefined): boolean {
  return tags?.[OPT_OUT_TAG.key]?.trim().toLowerCase() === OPT_OUT_TAG.value;
}

export interface RunComponent {
  /** e.g. "operator", "FalconNodeSensor", "FalconContainer", "FalconAdmission". */
  readonly name: string;
  readonly version?: string;
  readonly status: 'applied' | 'unchanged' | 'removed' | 'failed' | 'skipped';
}

/** The one JSON result a run reports (log, runs table, exit code). */
export interface RunResult {
  readonly runId: string;
  readonly accountId: string;
  readonly region: string;
  readonly cluster: string;
  readonly mode: RunMode;
  readonly outcome: RunOutcome;
  readonly reason?: string;
  readonly components: readonly RunComponent[];
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Milliseconds spent per step, e.g. { waitActive: 1200, apply: 5300 }. */
  readonly durationsMs: Readonly<Record<string, number>>;
  /**
   * Mixed clusters (nodes and Fargate): the namespaces a Fargate profile selects that do not carry the
   * sidecar injection label (`sensor.falcon-system.crowdstrike.com/injection=enabled`) when the run
   * looked, sorted. Their Fargate pods start without a Falcon sidecar; coverage names them. Absent when
   * the run did not look (other compute, uninstall, a failed run, or the read failed).
   */
  readonly fargateNamespacesWithoutInjection?: readonly string[];
  /**
   * Install runs: the desired state the run worked towards (src/cluster/desired-state.ts). When the
   * run leaves the cluster protected, the runs table keeps it as the cluster's `protectedState`.
   */
  readonly desiredState?: DesiredState;
}

/** What a run puts on a cluster, reduced to a fingerprint (src/cluster/desired-state.ts). */
export interface DesiredState {
  /** 32 hex digits over everything that reaches the cluster. */
  readonly fingerprint: string;
  /** For people: what changed, when the fingerprint did. */
  readonly operatorVersion: string;
  readonly compute: ComputeMode;
}

/** The desired state the last good install run left on a cluster (`protectedState` in the runs table). */
export interface ProtectedState extends DesiredState {
  /** When that run finished (ISO 8601): "up to date since". */
  readonly at: string;
  readonly runId: string;
}

/** Why a run was started, as the run pacer recorded it when it started the run (`lastTrigger`). */
export interface RunTrigger {
  readonly runId: string;
  /** A build decision's code (`RunDecisionCode` in src/eks/run-decision.ts). */
  readonly reason: string;
  readonly at: string;
}

/** An EKS access scope as recorded (the API's `AccessScope`). */
export interface RecordedAccessScope {
  readonly type: 'cluster' | 'namespace';
  readonly namespaces?: readonly string[];
}

/** How to undo what a run did to its access entry. */
export type AccessEntryUndo =
  /** The run created the entry (or found its own): delete it, if it still carries our user name. */
  | { readonly principalArn: string; readonly action: 'remove-entry' }
  /** The entry is someone else's and had no cluster admin policy: disassociate the policy. */
  | { readonly principalArn: string; readonly action: 'disassociate'; readonly policyArn: string }
  /** The entry is someone else's and had the policy at a narrower scope: put that scope back. */
  | {
      readonly principalArn: string;
      readonly action: 'restore-scope';
      readonly policyArn: string;
      readonly scope: RecordedAccessScope;
    };

/**
 * What a run changes on a cluster outside Kubernetes, written to the runs table BEFORE it makes
 * the change, so that a run killed before its clean-up (a stopped or timed-out build, a lost
 * container) is undone by the next run on the cluster. The run's own clean-up undoes it from the
 * same record, then removes it.
 */
export interface ClusterChanges {
  /** The run that recorded it (and held the cluster's lock). */
  readonly runId: string;
  readonly recordedAt: string;
  /** The public endpoint allow-list before the run widened it, and what it widened it to. */
  readonly allowList?: { readonly original: readonly string[]; readonly widened: readonly string[] };
  readonly accessEntry?: AccessEntryUndo;
}

/** Whether discovery judged the cluster protectable, and why not. */
export type VerdictKind = 'eligible' | 'ineligible';

export interface ClusterVerdict {
  readonly kind: VerdictKind;
  /** Stable code, e.g. "config-map-auth", "private-endpoint", "not-active", "unsupported-version", "no-listable-compute". */
  readonly code: string;
  /** One sentence for people: what is wrong and what to do. */
  readonly reason: string;
}

/**
 * Runs table (DynamoDB, home account). One item per cluster:
 * - partition key `pk` (S) = `clusterKey(account, region, cluster)`; no sort key;
 * - `accountId`, `region`, `clusterName` (S);
 * - `lockRunId` (S) and `lockExpiresAt` (N, epoch seconds) while a run holds the lock: taken with a
 *   conditional write `attribute_not_exists(lockRunId) OR lockExpiresAt < :now`, released by the
 *   deployer with a condition `lockRunId = :runId`;
 * - `verdict` (M: ClusterVerdict) and `verdictAt` (S, ISO 8601), written by discovery and events;
 * - `lastRun` (M: RunResult), written by the deployer when it releases the lock (`lastRepair`
 *   instead for a `repair` run, so the cluster's last install or uninstall stays what it reads);
 * - `clusterChanges` (M: ClusterChanges) from before a run changes the allow-list or the access
 *   entry until it has undone that (left behind by a killed run; the next run undoes it);
 * - `falconInstalledAt` (S, ISO 8601) and `falconInstalledBy` (S, run ID): written by the deployer
 *   before an install run first writes to the cluster, kept for good (destroy uninstalls every
 *   cluster that has it); `falconRemovedAt` (S), written when an uninstall run ends `uninstalled`,
 *   removed again by the next install;
 * - `protectedState` (M: ProtectedState): the desired state the last good install run left there,
 *   written when it releases the lock, removed when an uninstall run ends `uninstalled`;
 * - `failureStreak` (N): install runs that ended failed or not-reachable since the last good one
 *   (reset to 0 by a good run): the backoff before the next try grows with it;
 * - `repairStreak` (N): runs started because coverage said the cluster's nodes do not (or only
 *   partly) report, since coverage last saw them all report (then reset to 0 by a sweep);
 * - `lastTrigger` (M: RunTrigger): why the run pacer started the last run;
 * - `decision` (M: { code, reason, at }): what the last sweep or event decided and why ("up to date
 *   since …", "backing off until …");
 * - `followUp` (M: { reason, at }): an event met a held lock; the next sweep or discovery batch of
 *   the account starts a run once the holder is done (served by the first run that starts after `at`);
 * - `updatedAt` (S, ISO 8601).
 * Besides the cluster items, discovery keeps one item per account: `pk` = `accountKey(account)`,
 * `accountId`, `discovery` (M: AccountOutcome) and `updatedAt`; it has no `region`/`clusterName`.
 * One more item, `pk` = `DEPLOYMENT_KEY`, holds `destroying` (M: DestroyingMark) while `destroy`
 * takes the deployment down: no install run starts while it is there. And `pk` = `PACING_KEY` holds
 * the pacing lease (`lockRunId`, `lockExpiresAt`, as a cluster's lock): a discovery invocation
 * counts the builds in flight and starts its own only while it holds it (src/eks/build-capacity.ts).
 */
export const RUNS_TABLE = {
  partitionKey: 'pk',
  attributes: {
    accountId: 'accountId',
    region: 'region',
    cluster: 'clusterName',
    lockRunId: 'lockRunId',
    lockExpiresAt: 'lockExpiresAt',
    verdict: 'verdict',
    verdictAt: 'verdictAt',
    lastRun: 'lastRun',
    lastRepair: 'lastRepair',
    clusterChanges: 'clusterChanges',
    updatedAt: 'updatedAt',
    falconInstalledAt: 'falconInstalledAt',
    falconInstalledBy: 'falconInstalledBy',
    falconRemovedAt: 'falconRemovedAt',
    protectedState: 'protectedState',
    failureStreak: 'failureStreak',
    repairStreak: 'repairStreak',
    lastTrigger: 'lastTrigger',
    decision: 'decision',
    followUp: 'followUp',
    destroying: 'destroying',
    /** On an account's item: its last discovery outcome. */
    discovery: 'discovery',
  },
} as const;

/** Key of the item that says the whole deployment is being destroyed (see RUNS_TABLE). */
export const DEPLOYMENT_KEY = 'deployment';

/** Key of the item whose lock is the pacing lease (see RUNS_TABLE). */
export const PACING_KEY = 'pacing';

/** Who is destroying the deployment, since when (the `destroying` attribute of DEPLOYMENT_KEY). */
export interface DestroyingMark {
  /** ISO 8601. */
  readonly since: string;
  /** The caller's identity (ARN), as destroy saw it. */
  readonly by: string;
}

export function clusterKey(accountId: string, region: string, cluster: string): string {
  return `${accountId}#${region}#${cluster}`;
}

export function accountKey(accountId: string): string {
  return `account#${accountId}`;
}

/** How the last discovery of one account ended (account item of the runs table). */
export interface AccountOutcome {
  readonly accountId: string;
  readonly status: 'ok' | 'failed';
  readonly reason?: string;
  /** Regions that failed or were configured but not enabled, with the reason. */
  readonly regions: readonly { readonly region: string; readonly status: string; readonly reason?: string }[];
  readonly clusters: number;
  readonly discoveredAt: string;
}

/**
 * Environment of the `eks-discover` and `eks-event` functions, set by the infrastructure
 * (src/infra/features/eks-protection*). Owned jointly: the functions read exactly these.
 */
export const EKS_FUNCTION_ENV = {
  /** JSON of `EksFunctionSettings`. */
  settings: 'FALCON_ORG_EKS_SETTINGS',
  runsTable: 'FALCON_ORG_RUNS_TABLE',
  /** Name of the deployer CodeBuild project in the home region. */
  deployerProject: 'FALCON_ORG_DEPLOYER_PROJECT',
  /** SQS queue that spreads discovery over several invocations when one cannot finish in time. */
  discoveryQueueUrl: 'FALCON_ORG_DISCOVERY_QUEUE_URL',
  /** JSON of the deployer's settings (`DeployerRunSettings`, as the project has them): the desired state. */
  deployerSettings: 'FALCON_ORG_DEPLOYER_SETTINGS',
  /** The coverage report bucket (when coverage reports EKS): its latest report feeds discovery's repairs. */
  coverageReportBucket: 'FALCON_ORG_COVERAGE_REPORT_BUCKET',
} as const;

/** Non-secret settings of the EKS functions, passed as JSON in `EKS_FUNCTION_ENV.settings`. */
export interface EksFunctionSettings {
  readonly partition: string;
  readonly homeAccountId: string;
  readonly homeRegion: string;
  /** Root ID or OU IDs whose accounts (nested OUs included) are in scope. */
  readonly targets: readonly string[];
  readonly excludeAccounts: readonly string[];
  /** Configured EKS regions, or "enabled" for every region enabled in each account. */
  readonly regions: readonly string[] | 'enabled';
  /** Name of the member execution role (same name in every member account). */
  readonly executionRoleName: string;
  /** Upper bound of calls in flight (accounts × regions) in one invocation. */
  readonly concurrency: number;
  /** How long a run lock lives before another run may take it (seconds). */
  readonly lockTtlSeconds: number;
  /** Oldest Kubernetes version a run is started for. @default "1.28" */
  readonly minKubernetesVersion?: string;
  /** Accounts per discovery queue message when the work is spread over invocations. @default 25 */
  readonly accountsPerMessage?: number;
  /** Backoff of a failing cluster (and of coverage repairs), in minutes. @default 60 doubling to 1440 */
  readonly retry?: { readonly firstMinutes: number; readonly maxMinutes: number };
  /** Concurrent builds the pacer paces to; absent: read from Service Quotas. */
  readonly concurrentBuilds?: number;
}
