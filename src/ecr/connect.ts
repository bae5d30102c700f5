import { ecrConnectionKind, type EcrConnectionKind } from '../config/ecr-connection-kind.js';
import type { PartitionName } from '../config/partitions.js';
import type { RegistryConnectionsApi } from '../falcon/types.js';
import { randomUUID } from 'node:crypto';
import type { AccountLeftovers } from './leftovers.js';
import { RegionOutcome, unsuccessful, type ReconcileReport } from './outcome.js';
import { OwnershipLedger, type OwnershipStore, type WantedRegions } from './ownership.js';
import { reconcileConnections, type ReconcileObserver } from './reconcile.js';
import type { RegionDirectory } from './regions.js';
import { withRunLease, type LeaseOptions, type RunLease } from './run-lease.js';
import type { SecretReader } from '../aws/secrets.js';
import type { FalconCloud } from '../config/clouds.js';
import { parseFalconClientSecretWithCloud, type FalconClientCredentials } from '../falcon/credentials.js';
import { parseExternalId } from './secrets.js';
import { ecrRegistryUrl } from './urls.js';

/** What a trigger asks for. */
export type EcrConnectRequest =
  /**
   * CloudFormation Create or Update: connect these regions from now on. `provisional` (a Create): what
   * this run creates is removed by the rollback Delete if the Create does not succeed.
   */
  | {
      readonly kind: 'apply';
      readonly deploymentId: string;
      readonly regions: WantedRegions;
      readonly provisional?: boolean;
    }
  /**
   * CloudFormation Delete: remove owned connections when `disconnect`, otherwise leave them (but always
   * remove what an unsuccessful Create made). `purge`: also remove the record, the run lease and the
   * function's log group.
   */
  | {
      readonly kind: 'delete';
      readonly deploymentId: string;
      readonly disconnect: boolean;
      readonly purge?: boolean;
    }
  /** Schedule: repair drift toward what the last Create/Update asked for. */
  | { readonly kind: 'repair' };

/** Where the account's settings live (the handler's environment). */
export interface EcrConnectSettings {
  readonly accountId: string;
  readonly partition: PartitionName;
  /** ARN or name of the secret holding the ECR client: {ClientId, ClientSecret, Cloud, BaseUrl?}. */
  readonly falconSecretId: string;
  /** ARN or name of the secret holding the external ID. */
  readonly externalIdSecretId: string;
  /** The role Falcon assumes to read ECR. */
  readonly connectionRoleArn: string;
  /** Regions handled at once. @default 8 */
  readonly concurrency?: number;
}

export interface EcrConnectDeps {
  readonly secrets: SecretReader;
  readonly ownership: OwnershipStore;
  readonly regionDirectory: RegionDirectory;
  /** Builds the Falcon client from the credentials read from the secret. */
  readonly createFalcon: (credentials: EcrFalconClient) => FalconSession;
  /** Serialises the runs of the account (see SsmRunLease). */
  readonly lease: RunLease;
  /** What a purge removes besides the record. */
  readonly leftovers: AccountLeftovers;
}

/** The ECR client as its member-account secret holds it: the client and the cloud it belongs to. */
export type EcrFalconClient = FalconClientCredentials & { readonly cloud: FalconCloud };

/** A Falcon client for one run; closed (token revoked, best effort) when the run ends. */
export interface FalconSession {
  readonly registryConnections: RegistryConnectionsApi;
  close(): Promise<void>;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly observer?: ReconcileObserver;
  /** Who this run is and how long it holds or waits for the lease. @default a random holder, 15 min, no wait */
  readonly lease?: Omit<LeaseOptions, 'signal'>;
}

/** What a run did; `deferredRun` when it did nothing because another run held the lease. */
export interface EcrConnectReport extends ReconcileReport {
  readonly deferredRun?: string;
  /** What a purge removed (the record, the lease, the log group). */
  readonly purged?: readonly string[];
}

/**
 * Takes the account's run lease, reads the secrets and the ownership record, then runs the reconcile for
 * one trigger. Secrets are read before anything is changed, so a malformed secret changes nothing.
 */
export async function runEcrConnect(
  request: EcrConnectRequest,
  settings: EcrConnectSettings,
  deps: EcrConnectDeps,
  options: RunOptions = {},
): Promise<EcrConnectReport> {
  const leaseOptions: LeaseOptions = {
    holder: `run-${randomUUID()}`,
    ttlMs: 15 * 60_000,
    waitMs: 0,
    ...options.lease,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
  const leased = await withRunLease(deps.lease, leaseOptions, () =>
    runLeased(request, settings, deps, options),
  );
  if (!leased.ran) return { accountId: settings.accountId, results: [], deferredRun: leased.reason };
  if (request.kind !== 'delete' || request.purge !== true) return leased.value;
  // A Delete that failed keeps the record, so CloudFormation's retry can still finish the job.
  if (unsuccessful(leased.value.results).length > 0) return leased.value;
  // After the lease was given back (releasing writes the lease parameter, which the purge removes).
  const purged: string[] = [];
  const record = await deps.ownership.load();
  if (record === undefined || record.deploymentId === request.deploymentId) {
    if (record !== undefined) purged.push('the ownership record');
    await deps.ownership.remove();
  }
  purged.push(...(await deps.leftovers.purge()));
  return { ...leased.value, purged };
}

async function runLeased(
  request: EcrConnectRequest,
  settings: EcrConnectSettings,
  deps: EcrConnectDeps,
  options: RunOptions,
): Promise<ReconcileReport> {
  const { accountId } = settings;
  if (request.kind === 'repair') {
    const record = await deps.ownership.load();
    if (!record?.desired?.active) return { accountId, results: [] };
    // The ledger works on the record just read (and rejects another account's).
    const ledger = OwnershipLedger.fromStored(
      deps.ownership,
      record,
      record.deploymentId,
      accountId,
      options.signal,
    );
    // A Create that has not succeeded yet (its rollback may be coming): what the repair makes now is
    // as provisional as what that Create made, so the rollback removes it too.
    if (ledger.provisionalRegions().length > 0) ledger.startProvisional();
    return apply(ledger, record.deploymentId, record.desired.regions, 'repair', settings, deps, options);
  }
  if (request.kind === 'apply') {
    const ledger = await OwnershipLedger.open(
      deps.ownership,
      request.deploymentId,
      accountId,
      options.signal,
    );
    const trigger = request.provisional === true ? 'create' : 'update';
    return apply(ledger, request.deploymentId, request.regions, trigger, settings, deps, options);
  }

  const stored = await deps.ownership.load();
  if (stored !== undefined && stored.deploymentId !== request.deploymentId) {
    // The record is another deployment's: this one owns nothing here, and must not fail its Delete
    // (a failed Create's rollback would otherwise leave the stack stuck in DELETE_FAILED).
    return { accountId, results: [] };
  }
  const ledger = OwnershipLedger.fromStored(
    deps.ownership,
    stored,
    request.deploymentId,
    accountId,
    options.signal,
  );
  const regions = ledger.desired?.regions ?? [];
  if (ledger.isEmpty()) {
    // Nothing owned (a repeated Delete, or nothing was ever created): no Falcon call, no secret needed.
    await ledger.removeRecord();
    return { accountId, results: [] };
  }
  // Without disconnect, owned connections stay; but what an unsuccessful Create made (provisional) and
  // creates whose answer was never recorded (pending) are removed: they were never part of a deployment
  // that succeeded, and reporting them as "left" would count connections that may not exist.
  const only = request.disconnect
    ? undefined
    : new Set([...ledger.provisionalRegions(), ...ledger.snapshot.pending]);
  if (only !== undefined && only.size === 0) {
    await ledger.setDesired({ regions, active: false });
    return {
      accountId,
      results: ledger.regions().map((region) => ({
        region,
        url: ecrRegistryUrl(accountId, region),
        outcome: RegionOutcome.Left,
        owned: true,
        ...(ledger.ownedId(region) ? { connectionId: ledger.ownedId(region) } : {}),
      })),
    };
  }
  const credentials = await readCredentials(settings, deps);
  await ledger.setDesired({ regions, active: false });
  const report = await withFalcon(deps, credentials, (falcon) =>
    reconcileConnections(
      accountId,
      request.deploymentId,
      { kind: 'disconnect', ...(only !== undefined ? { only } : {}) },
      { falcon, ledger, regionDirectory: deps.regionDirectory, ...reconcileOptions(settings, options) },
    ),
  );
  // With disconnect, the record goes once nothing failed: what is left behind (Falcon unreachable or out
  // of budget) is named in the results, and a record kept would make a later re-creation think it still
  // owns them. Without disconnect, it stays while it owns something (a re-creation takes them back).
  const done = unsuccessful(report.results).length === 0;
  // A create whose answer was never recorded and that Falcon could not be asked about (unreachable,
  // client refused) stays pending with the fingerprint of the role and external ID it was made with.
  // Removing the record would lose that: a later Create of this stack instance (same role and external
  // ID, e.g. after a rolled-back stack update) would then replace the connection instead of adopting it.
  const unchecked = ledger.snapshot.pending.length > 0;
  if (ledger.isEmpty() || (request.disconnect && done && !unchecked)) await ledger.removeRecord();
  return report;
}

/**
 * After a Create answered SUCCESS without finishing (its time budget ran out and the rest was deferred
 * to the schedule), what it made is no longer provisional. Best effort, outside the lease: the run that
 * made them was abandoned at its deadline.
 */
export async function confirmCreate(
  deploymentId: string,
  accountId: string,
  deps: EcrConnectDeps,
): Promise<void> {
  const ledger = await OwnershipLedger.open(deps.ownership, deploymentId, accountId);
  await ledger.confirm();
}

async function apply(
  ledger: OwnershipLedger,
  deploymentId: string,
  regions: WantedRegions,
  trigger: 'create' | 'update' | 'repair',
  settings: EcrConnectSettings,
  deps: EcrConnectDeps,
  options: RunOptions,
): Promise<ReconcileReport> {
  const credentials = await readCredentials(settings, deps);
  const externalId = parseExternalId(
    await deps.secrets.getSecretString(settings.externalIdSecretId),
    settings.externalIdSecretId,
  );
  if (trigger !== 'repair') await ledger.setDesired({ regions, active: true });
  if (trigger === 'create') ledger.startProvisional();
  const report = await withFalcon(deps, credentials, (falcon) =>
    reconcileConnections(
      settings.accountId,
      deploymentId,
      {
        kind: 'apply',
        regions,
        connection: {
          roleArn: settings.connectionRoleArn,
          externalId,
          ...connectionFlags(ecrConnectionKind(settings.partition, credentials.cloud)),
        },
      },
      { falcon, ledger, regionDirectory: deps.regionDirectory, ...reconcileOptions(settings, options) },
    ),
  );
  // A Create or Update that succeeded: from now on its connections belong to a working deployment.
  if (trigger !== 'repair' && unsuccessful(report.results).length === 0) await ledger.confirm();
  return report;
}

async function withFalcon<T>(
  deps: EcrConnectDeps,
  credentials: EcrFalconClient,
  work: (falcon: RegistryConnectionsApi) => Promise<T>,
): Promise<T> {
  const session = deps.createFalcon(credentials);
  try {
    return await work(session.registryConnections);
  } finally {
    await session.close();
  }
}

async function readCredentials(settings: EcrConnectSettings, deps: EcrConnectDeps): Promise<EcrFalconClient> {
  // The member-account secret is written by the stack with the cloud in it (`Cloud`, `BaseUrl`?).
  return parseFalconClientSecretWithCloud(
    await deps.secrets.getSecretString(settings.falconSecretId),
    settings.falconSecretId,
  );
}

function reconcileOptions(settings: EcrConnectSettings, options: RunOptions) {
  return {
    ...(settings.concurrency !== undefined ? { concurrency: settings.concurrency } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.observer !== undefined ? { observer: options.observer } : {}),
  };
}

/** The body flags of a connection spec for this partition and Falcon cloud. */
function connectionFlags(kind: EcrConnectionKind) {
  return { govUsingCommercialConnection: kind.govUsingCommercialConnection, govCloud: kind.gov };
}
