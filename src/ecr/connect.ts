import { isGovCloud } from '../config/clouds.js';
import type { PartitionName } from '../config/partitions.js';
import type { RegistryConnectionsApi } from '../falcon/types.js';
import { RegionOutcome, type ReconcileReport } from './outcome.js';
import { OwnershipLedger, type OwnershipStore, type WantedRegions } from './ownership.js';
import { reconcileConnections, type ReconcileObserver } from './reconcile.js';
import type { RegionDirectory } from './regions.js';
import {
  parseExternalId,
  parseFalconCredentials,
  type FalconApiSecret,
  type SecretReader,
} from './secrets.js';
import { ecrRegistryUrl } from './urls.js';

/** What a trigger asks for. */
export type EcrConnectRequest =
  /** CloudFormation Create or Update: connect these regions from now on. */
  | { readonly kind: 'apply'; readonly deploymentId: string; readonly regions: WantedRegions }
  /** CloudFormation Delete: remove owned connections when `disconnect`, otherwise leave them. */
  | { readonly kind: 'delete'; readonly deploymentId: string; readonly disconnect: boolean }
  /** Schedule: repair drift toward what the last Create/Update asked for. */
  | { readonly kind: 'repair' };

/** Where the account's settings live (the handler's environment). */
export interface EcrConnectSettings {
  readonly accountId: string;
  readonly partition: PartitionName;
  /** ARN or name of the secret holding {ClientId, ClientSecret, Cloud, BaseUrl?}. */
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
  readonly createFalcon: (credentials: FalconApiSecret) => FalconSession;
}

/** A Falcon client for one run; closed (token revoked, best effort) when the run ends. */
export interface FalconSession {
  readonly registryConnections: RegistryConnectionsApi;
  close(): Promise<void>;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly observer?: ReconcileObserver;
}

/**
 * Reads the secrets and the ownership record, then runs the reconcile for one trigger. Secrets are read
 * before anything is changed, so a malformed secret changes nothing.
 */
export async function runEcrConnect(
  request: EcrConnectRequest,
  settings: EcrConnectSettings,
  deps: EcrConnectDeps,
  options: RunOptions = {},
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
    return apply(ledger, record.deploymentId, record.desired.regions, false, settings, deps, options);
  }
  if (request.kind === 'apply') {
    const ledger = await OwnershipLedger.open(
      deps.ownership,
      request.deploymentId,
      accountId,
      options.signal,
    );
    return apply(ledger, request.deploymentId, request.regions, true, settings, deps, options);
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
  if (!request.disconnect) {
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
      { kind: 'disconnect' },
      { falcon, ledger, regionDirectory: deps.regionDirectory, ...reconcileOptions(settings, options) },
    ),
  );
  if (ledger.isEmpty()) await ledger.removeRecord();
  return report;
}

async function apply(
  ledger: OwnershipLedger,
  deploymentId: string,
  regions: WantedRegions,
  recordDesired: boolean,
  settings: EcrConnectSettings,
  deps: EcrConnectDeps,
  options: RunOptions,
): Promise<ReconcileReport> {
  const credentials = await readCredentials(settings, deps);
  const externalId = parseExternalId(
    await deps.secrets.getSecretString(settings.externalIdSecretId),
    settings.externalIdSecretId,
  );
  if (recordDesired) await ledger.setDesired({ regions, active: true });
  return withFalcon(deps, credentials, (falcon) =>
    reconcileConnections(
      settings.accountId,
      deploymentId,
      {
        kind: 'apply',
        regions,
        connection: {
          roleArn: settings.connectionRoleArn,
          externalId,
          govUsingCommercialConnection: settings.partition === 'aws' && isGovCloud(credentials.cloud),
        },
      },
      { falcon, ledger, regionDirectory: deps.regionDirectory, ...reconcileOptions(settings, options) },
    ),
  );
}

async function withFalcon<T>(
  deps: EcrConnectDeps,
  credentials: FalconApiSecret,
  work: (falcon: RegistryConnectionsApi) => Promise<T>,
): Promise<T> {
  const session = deps.createFalcon(credentials);
  try {
    return await work(session.registryConnections);
  } finally {
    await session.close();
  }
}

async function readCredentials(settings: EcrConnectSettings, deps: EcrConnectDeps): Promise<FalconApiSecret> {
  return parseFalconCredentials(
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
