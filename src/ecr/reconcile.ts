import type { RegistryConnection, RegistryConnectionsApi } from '../falcon/types.js';
import { normalizeRegistryUrl } from '../falcon/url.js';
import {
  isFalconBudgetExhausted,
  isFalconUnreachable,
  OwnershipRecordError,
  ReconcileSetupError,
} from './errors.js';
import { credentialFingerprint } from './fingerprint.js';
import { RegionOutcome, type ReconcileReport, type RegionResult } from './outcome.js';
import type { OwnershipLedger, WantedRegions } from './ownership.js';
import { mapEachOutcome } from '../fanout/concurrency.js';
import type { RegionDirectory } from './regions.js';
import { connectionAlias, ecrRegistryUrl } from './urls.js';
import { describeError } from '../shared/describe-error.js';

/** How new connections are made: the role Falcon assumes and its external ID. */
export interface ConnectionSpec {
  readonly roleArn: string;
  readonly externalId: string;
  /** The account's partition and the Falcon cloud are on different sides (src/config/ecr-connection-kind.ts). */
  readonly govUsingCommercialConnection: boolean;
  /** Either side is a government cloud: CrowdStrike's gov payload. */
  readonly govCloud?: boolean;
}

/**
 * `apply`: connect exactly the wanted regions (create missing, keep existing, replace owned connections
 * made with another credential, delete owned connections in regions no longer wanted). `disconnect`:
 * delete every connection this deployment owns, or only those in `only` (the others are reported `left`).
 */
export type ReconcileMode =
  | { readonly kind: 'apply'; readonly regions: WantedRegions; readonly connection: ConnectionSpec }
  | { readonly kind: 'disconnect'; readonly only?: ReadonlySet<string> };

/** Told about progress, so a caller that must stop early can say which regions were unfinished. */
export interface ReconcileObserver {
  /** The regions the run will handle, and the connections it owns at the start (region → ID). */
  planned?(regions: readonly string[], owned: Readonly<Record<string, string>>): void;
  finished?(result: RegionResult): void;
}

export interface ReconcileDeps {
  readonly falcon: RegistryConnectionsApi;
  readonly ledger: OwnershipLedger;
  readonly regionDirectory: RegionDirectory;
  /** Regions handled at once. @default 8 */
  readonly concurrency?: number;
  /** Aborting stops starting regions (they end as `skipped`) and aborts Falcon calls in flight. */
  readonly signal?: AbortSignal;
  readonly observer?: ReconcileObserver;
}

/**
 * Makes this account's Falcon registry connections match what is wanted, region by region, concurrently.
 * A region's failure is reported in its result and never stops the others. Only connections recorded in
 * the ownership ledger, or (for a wanted region) carrying this deployment's alias for this account and
 * region, are ever deleted; a connection for the same URL that this deployment did not create is kept and
 * left alone.
 *
 * Throws ReconcileSetupError only when nothing can be decided safely (the enabled regions cannot be
 * learned: deleting "unwanted" connections on a guess would be wrong).
 *
 * @example
 * const report = await reconcileConnections('123456789012', 'prod', {
 *   kind: 'apply', regions: ['us-east-1', 'eu-west-1'], connection: { roleArn, externalId,
 *   govUsingCommercialConnection: false } }, { falcon, ledger, regionDirectory });
 */
export async function reconcileConnections(
  accountId: string,
  deploymentId: string,
  mode: ReconcileMode,
  deps: ReconcileDeps,
): Promise<ReconcileReport> {
  const { ledger, falcon, signal } = deps;
  const wanted = new Set(
    mode.kind === 'apply' ? await wantedRegions(mode.regions, deps.regionDirectory) : [],
  );
  const targets = [...new Set([...wanted, ...ledger.regions()])].sort();
  deps.observer?.planned?.(targets, ledger.snapshot.connections);

  // One listing serves every region. If it fails, every region fails with its reason: nothing is created
  // without knowing what exists, and nothing is deleted without confirming the ID is this account's
  // connection for that region (a corrupted or edited ownership record must not delete anything else).
  let listing: Listing | Error = new Listing([]);
  if (targets.length > 0) {
    try {
      listing = new Listing(await falcon.listConnections(signal));
    } catch (error) {
      listing = new ReconcileSetupError(
        `could not list Falcon registry connections: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  const current = (): Listing => {
    if (listing instanceof Error) throw listing;
    return listing;
  };

  const alias = (region: string): string => connectionAlias(deploymentId, accountId, region);

  const handle = async (region: string): Promise<RegionResult> => {
    const url = ecrRegistryUrl(accountId, region);
    if (mode.kind === 'disconnect' && mode.only !== undefined && !mode.only.has(region)) {
      return leftAlone(region, url, ledger);
    }
    try {
      if (mode.kind === 'apply' && wanted.has(region)) {
        return await connect(region, url, current(), alias(region), mode.connection, deps);
      }
      return await disconnect(region, url, current(), alias(region), deps);
    } catch (error) {
      const ownedId = ledger.ownedId(region);
      const owned = ownedId !== undefined;
      if (isFalconBudgetExhausted(error) && mode.kind === 'disconnect' && ownedId !== undefined) {
        // A disconnect runs on Delete, and the schedule goes with the stack: no later run picks the
        // region up, so its connection is left behind and named, as when Falcon cannot be reached.
        return {
          region,
          url,
          outcome: RegionOutcome.Left,
          owned,
          connectionId: ownedId,
          reason: `Falcon's rate limit allowance ran out: ${describeError(error)}`,
        };
      }
      if (isFalconBudgetExhausted(error)) {
        return {
          region,
          url,
          outcome: RegionOutcome.Deferred,
          owned,
          ...(ownedId !== undefined ? { connectionId: ownedId } : {}),
          reason: `Falcon's rate limit allowance ran out: ${describeError(error)}`,
        };
      }
      if (mode.kind === 'disconnect' && isFalconUnreachable(error)) {
        // Teardown must not hang on Falcon: the connection (if any) is left behind and named.
        return ownedId !== undefined
          ? {
              region,
              url,
              outcome: RegionOutcome.Left,
              owned,
              connectionId: ownedId,
              reason: `Falcon could not be reached or refused the API client: ${describeError(error)}`,
            }
          : {
              region,
              url,
              outcome: RegionOutcome.Absent,
              owned,
              reason: `an unfinished create could not be checked (it stays recorded as pending, so a later run adopts or removes it): ${describeError(error)}`,
            };
      }
      return { region, url, outcome: RegionOutcome.Failed, owned, reason: describeError(error) };
    }
  };

  const results = await mapEachOutcome(
    targets,
    deps.concurrency ?? 8,
    async (region) => {
      const result = await handle(region);
      deps.observer?.finished?.(result);
      return result;
    },
    (region) => deferredResult(region, ecrRegistryUrl(accountId, region), ledger),
    signal,
  );
  return { accountId, results };
}

/** A region not reached because the run's time budget ran out; the next scheduled run does it. */
export function deferredResult(region: string, url: string, ledger: OwnershipLedger): RegionResult {
  const ownedId = ledger.ownedId(region);
  return {
    region,
    url,
    outcome: RegionOutcome.Deferred,
    owned: ownedId !== undefined,
    ...(ownedId !== undefined ? { connectionId: ownedId } : {}),
    reason: "not reached before the run's time budget ran out",
  };
}

/** A region a disconnect was told not to touch: its owned connection stays in Falcon. */
function leftAlone(region: string, url: string, ledger: OwnershipLedger): RegionResult {
  const ownedId = ledger.ownedId(region);
  return ownedId !== undefined
    ? { region, url, outcome: RegionOutcome.Left, connectionId: ownedId, owned: true }
    : { region, url, outcome: RegionOutcome.Absent, owned: false };
}

async function wantedRegions(regions: WantedRegions, directory: RegionDirectory): Promise<string[]> {
  if (regions !== 'all') return [...regions];
  let enabled: string[];
  try {
    enabled = await directory.list();
  } catch (error) {
    throw new ReconcileSetupError(
      `could not list the regions enabled for the account: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  if (enabled.length === 0) {
    throw new ReconcileSetupError(
      'the account reports no enabled regions; refusing to treat every region as unwanted',
    );
  }
  return enabled;
}

/** Falcon's connections as listed at the start of the run, by normalized URL and by ID. */
class Listing {
  private readonly byUrl = new Map<string, RegistryConnection[]>();
  private readonly byId = new Map<string, RegistryConnection>();

  constructor(connections: readonly RegistryConnection[]) {
    for (const c of connections) {
      const key = normalizeRegistryUrl(c.url);
      this.byUrl.set(key, [...(this.byUrl.get(key) ?? []), c]);
      this.byId.set(c.id, c);
    }
  }

  at(url: string): RegistryConnection[] {
    return this.byUrl.get(normalizeRegistryUrl(url)) ?? [];
  }

  get(id: string): RegistryConnection | undefined {
    return this.byId.get(id);
  }
}

/** A wanted region: make sure a connection exists for its URL, made with the current credential. */
async function connect(
  region: string,
  url: string,
  listing: Listing,
  alias: string,
  spec: ConnectionSpec,
  deps: ReconcileDeps,
): Promise<RegionResult> {
  const { ledger, falcon, signal } = deps;
  const fingerprint = credentialFingerprint(spec);
  let existing = listing.at(url);
  let replaced = false;
  /** Deletes our connection made with another credential; the create below makes it again. */
  const replace = async (id: string): Promise<void> => {
    await falcon.deleteConnections([id], signal);
    await ledger.forget(region);
    existing = existing.filter((c) => c.id !== id);
    replaced = true;
  };
  const ownedId = ledger.ownedId(region);
  if (ownedId !== undefined) {
    if (!existing.some((c) => c.id === ownedId)) {
      // Our connection was deleted in Falcon: forget it, then repair below.
      await ledger.forget(region);
    } else if (ledger.fingerprint(region) === fingerprint) {
      return { region, url, outcome: RegionOutcome.Kept, connectionId: ownedId, owned: true };
    } else {
      // Made with another role ARN or external ID (the stack instance was re-created, or the record
      // predates fingerprints): Falcon's assume-role would fail with it. Falcon's API cannot change a
      // connection's credential in place, so it is replaced.
      await replace(ownedId);
    }
  }
  if (ledger.isPending(region)) {
    // A create was started but its answer never recorded (crash, timeout). The URL was absent when that
    // create began, so a connection there carrying our alias is the one we created.
    const ours = existing.find((c) => c.userDefinedAlias === alias);
    if (ours && ledger.fingerprint(region) === fingerprint) {
      await ledger.recordOwned(region, ours.id, fingerprint);
      return { region, url, outcome: RegionOutcome.Adopted, connectionId: ours.id, owned: true };
    }
    if (ours) await replace(ours.id);
    else if (existing.length > 0) await ledger.forget(region);
  }
  // A connection with this deployment's alias for this account and region that the record does not name
  // was made by an earlier instance of this deployment whose record was removed (a Delete that could not
  // reach Falcon, or destroy --purge without disconnectOnDelete). It still carries that instance's external
  // ID, which no longer exists, so it is taken back and replaced. The alias names the deployment, account
  // and region, so another deployment's connection or one set up by hand (any other alias) is never touched.
  const unrecorded = existing.find((c) => c.userDefinedAlias === alias);
  let adopted = false;
  if (unrecorded) {
    await replace(unrecorded.id);
    adopted = true;
  }
  const foreign = existing[0];
  if (foreign) {
    // Someone else connected this registry: use it as it is, never modify or delete it.
    return { region, url, outcome: RegionOutcome.Kept, connectionId: foreign.id, owned: false };
  }
  await ledger.markPending(region, fingerprint);
  const created = await falcon.createEcrConnection(
    {
      url,
      alias,
      roleArn: spec.roleArn,
      externalId: spec.externalId,
      ...(spec.govUsingCommercialConnection ? { govUsingCommercialConnection: true } : {}),
      ...(spec.govCloud === true ? { govCloud: true } : {}),
    },
    signal,
  );
  if (created.existed && created.userDefinedAlias !== alias) {
    // Falcon answered "duplicate" and the client found a connection by URL that lacks our alias: someone
    // else connected this registry after our listing. Never record it as ours (a later removal would
    // delete it). With our alias it is our own earlier attempt (a retried POST), so it is ours.
    await ledger.forget(region);
    return { region, url, outcome: RegionOutcome.Kept, connectionId: created.id, owned: false };
  }
  await ledger.recordOwned(region, created.id, fingerprint);
  return {
    region,
    url,
    outcome: replaced ? RegionOutcome.Replaced : RegionOutcome.Created,
    connectionId: created.id,
    owned: true,
    ...(adopted
      ? {
          reason: `connection ${unrecorded?.id ?? '?'} carried this deployment's alias but no ownership record (left by an earlier instance); replaced with the current role and external ID`,
        }
      : {}),
  };
}

/** A region not (or no longer) wanted: delete what this deployment owns there, nothing else. */
async function disconnect(
  region: string,
  url: string,
  listing: Listing,
  alias: string,
  deps: ReconcileDeps,
): Promise<RegionResult> {
  const { ledger, falcon, signal } = deps;
  let ownedId = ledger.ownedId(region);
  if (ownedId !== undefined) {
    const found = listing.get(ownedId);
    if (found === undefined) {
      // Already deleted in Falcon: nothing left to remove.
      await ledger.forget(region);
      return { region, url, outcome: RegionOutcome.Absent, owned: false };
    }
    if (normalizeRegistryUrl(found.url) !== normalizeRegistryUrl(url)) {
      throw new OwnershipRecordError(
        `the ownership record names connection ${ownedId} for ${region}, but Falcon has it for ${found.url}; not deleting it`,
      );
    }
  } else if (ledger.isPending(region)) {
    ownedId = listing.at(url).find((c) => c.userDefinedAlias === alias)?.id;
  }
  if (ownedId === undefined) {
    if (ledger.isPending(region)) await ledger.forget(region);
    return { region, url, outcome: RegionOutcome.Absent, owned: false };
  }
  await falcon.deleteConnections([ownedId], signal);
  await ledger.forget(region);
  return { region, url, outcome: RegionOutcome.Deleted, connectionId: ownedId, owned: false };
}
