import { OwnershipRecordError } from './errors.js';

/** The regions a deployment wants connected: a list, or every region enabled for the account. */
export type WantedRegions = readonly string[] | 'all';

/** What the last CloudFormation Create/Update asked for; scheduled runs repair toward it. */
export interface DesiredState {
  readonly regions: WantedRegions;
  /** False once the custom resource was deleted: scheduled runs then do nothing. */
  readonly active: boolean;
}

/**
 * Which Falcon registry connections this deployment created in this account. It is the only evidence of
 * ownership used for deletion: a connection not listed here is never deleted, whatever its URL or alias.
 */
export interface OwnershipRecord {
  readonly version: 1;
  readonly deploymentId: string;
  readonly accountId: string;
  readonly desired?: DesiredState;
  /** region → ID of the connection this deployment created there. */
  readonly connections: Readonly<Record<string, string>>;
  /**
   * Regions where a create was started but its answer not yet recorded (written before the create call,
   * so a crash between create and record can be recovered without guessing).
   */
  readonly pending: readonly string[];
  /**
   * region → fingerprint of the role ARN and external ID the owned (or pending) connection was made with
   * (see credentialFingerprint). A different fingerprint means the stack instance was re-created with a
   * new external ID or role, and the connection must be replaced. Absent in records written before
   * fingerprints existed: such a connection is treated as stale once and replaced.
   */
  readonly fingerprints?: Readonly<Record<string, string>>;
  /**
   * Regions whose connection (or pending create) was made by a CloudFormation Create that has not
   * succeeded yet. The rollback Delete of that Create removes them, even without disconnectOnDelete.
   */
  readonly provisional?: readonly string[];
}

/** Where the record lives (an SSM parameter in the account; in memory in tests). */
export interface OwnershipStore {
  /** The stored record, or undefined when there is none yet. */
  load(): Promise<OwnershipRecord | undefined>;
  save(record: OwnershipRecord): Promise<void>;
  /** Removes the record; removing a record that does not exist is not an error. */
  remove(): Promise<void>;
}

export function emptyRecord(deploymentId: string, accountId: string): OwnershipRecord {
  return { version: 1, deploymentId, accountId, connections: {}, pending: [] };
}

/** Serializes a record compactly (an SSM standard parameter holds 4 KB). */
export function serializeRecord(record: OwnershipRecord): string {
  return JSON.stringify(record);
}

/** Parses and checks a stored record; throws OwnershipRecordError naming what is wrong. */
export function parseRecord(text: string, where: string): OwnershipRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new OwnershipRecordError(`${where}: the ownership record is not JSON`, { cause });
  }
  const fail = (what: string): never => {
    throw new OwnershipRecordError(`${where}: the ownership record is malformed: ${what}`);
  };
  if (!isObject(raw)) return fail('expected an object');
  if (raw.version !== 1) return fail('expected version 1');
  if (typeof raw.deploymentId !== 'string' || raw.deploymentId === '') return fail('expected deploymentId');
  if (typeof raw.accountId !== 'string' || !/^\d{12}$/.test(raw.accountId)) return fail('expected accountId');
  const connections = raw.connections;
  if (!isObject(connections) || !Object.values(connections).every((v) => typeof v === 'string' && v !== '')) {
    return fail('expected connections to map regions to connection IDs');
  }
  const pending = raw.pending ?? [];
  if (!Array.isArray(pending) || !pending.every((p) => typeof p === 'string')) {
    return fail('expected pending to be a list of regions');
  }
  const fingerprints = raw.fingerprints ?? {};
  if (!isObject(fingerprints) || !Object.values(fingerprints).every((v) => typeof v === 'string')) {
    return fail('expected fingerprints to map regions to fingerprints');
  }
  const provisional = raw.provisional ?? [];
  if (!Array.isArray(provisional) || !provisional.every((p) => typeof p === 'string')) {
    return fail('expected provisional to be a list of regions');
  }
  let desired: DesiredState | undefined;
  if (raw.desired !== undefined) {
    const d = raw.desired;
    if (!isObject(d) || typeof d.active !== 'boolean') return fail('expected desired.active');
    const regions = d.regions;
    if (regions !== 'all' && !(Array.isArray(regions) && regions.every((r) => typeof r === 'string'))) {
      return fail('expected desired.regions to be "all" or a list of regions');
    }
    desired = { active: d.active, regions: regions as WantedRegions };
  }
  return {
    version: 1,
    deploymentId: raw.deploymentId,
    accountId: raw.accountId,
    ...(desired ? { desired } : {}),
    connections: connections as Record<string, string>,
    pending: pending,
    ...(Object.keys(fingerprints).length > 0 ? { fingerprints: fingerprints as Record<string, string> } : {}),
    ...(provisional.length > 0 ? { provisional: provisional } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The ownership record of one deployment in one account, held in memory and written through to its store
 * after every change. Writes are serialized (regions run concurrently) and each write carries every change
 * made so far, so the stored record never loses an entry to a race. Changes made while a write is waiting
 * share the next write (SSM PutParameter allows only a few calls per second).
 */
export class OwnershipLedger {
  private chain: Promise<void> = Promise.resolve();
  /** The write not yet started, which every new change joins. */
  private queued: Promise<void> | undefined;
  private sealed = false;
  /** When true, regions this run starts creating are marked provisional (a CloudFormation Create). */
  private provisionalMode = false;

  private constructor(
    private readonly store: OwnershipStore,
    private record: OwnershipRecord,
  ) {}

  /**
   * Loads the record (or starts an empty one) and checks it belongs to this deployment and account. Once
   * `signal` aborts (the run was abandoned at its deadline) the ledger refuses further writes, so work
   * still in flight can never overwrite what a later run recorded; a create caught by this stays pending
   * and is adopted by the next run.
   */
  static async open(
    store: OwnershipStore,
    deploymentId: string,
    accountId: string,
    signal?: AbortSignal,
  ): Promise<OwnershipLedger> {
    return OwnershipLedger.fromStored(store, await store.load(), deploymentId, accountId, signal);
  }

  /** As {@link OwnershipLedger.open}, over the record the caller has just loaded from `store` (read once). */
  static fromStored(
    store: OwnershipStore,
    stored: OwnershipRecord | undefined,
    deploymentId: string,
    accountId: string,
    signal?: AbortSignal,
  ): OwnershipLedger {
    const record = stored ?? emptyRecord(deploymentId, accountId);
    if (record.deploymentId !== deploymentId) {
      throw new OwnershipRecordError(
        `the ownership record belongs to deployment "${record.deploymentId}", not "${deploymentId}"; ` +
          'a deployment ID cannot change while it owns connections',
      );
    }
    if (record.accountId !== accountId) {
      throw new OwnershipRecordError(
        `the ownership record belongs to account ${record.accountId}, not ${accountId}`,
      );
    }
    const ledger = new OwnershipLedger(store, record);
    if (signal?.aborted) ledger.sealed = true;
    signal?.addEventListener('abort', () => (ledger.sealed = true), { once: true });
    return ledger;
  }

  get snapshot(): OwnershipRecord {
    return this.record;
  }

  get desired(): DesiredState | undefined {
    return this.record.desired;
  }

  ownedId(region: string): string | undefined {
    return Object.hasOwn(this.record.connections, region) ? this.record.connections[region] : undefined;
  }

  isPending(region: string): boolean {
    return this.record.pending.includes(region);
  }

  /** Regions where this deployment owns a connection or has a create pending. */
  regions(): string[] {
    return [...new Set([...Object.keys(this.record.connections), ...this.record.pending])];
  }

  isEmpty(): boolean {
    return this.regions().length === 0;
  }

  /** The fingerprint recorded for a region's owned or pending connection, if any. */
  fingerprint(region: string): string | undefined {
    const all = this.record.fingerprints ?? {};
    return Object.hasOwn(all, region) ? all[region] : undefined;
  }

  /** Regions made by a Create that has not succeeded yet (see OwnershipRecord.provisional). */
  provisionalRegions(): string[] {
    return [...(this.record.provisional ?? [])];
  }

  /** From now on, connections this run starts creating are provisional until {@link confirm}. */
  startProvisional(): void {
    this.provisionalMode = true;
  }

  /** The Create succeeded: nothing is provisional any more (writes only when something was). */
  async confirm(): Promise<void> {
    this.provisionalMode = false;
    if ((this.record.provisional ?? []).length === 0) return;
    await this.update((r) => withoutKey(r, 'provisional'));
  }

  /** A create is about to start in `region`, for a connection with this credential fingerprint. */
  markPending(region: string, fingerprint?: string): Promise<void> {
    const provisional = this.provisionalMode;
    return this.update((r) =>
      tidy({
        ...r,
        pending: [...r.pending.filter((p) => p !== region), region],
        fingerprints:
          fingerprint === undefined ? r.fingerprints : { ...r.fingerprints, [region]: fingerprint },
        provisional: provisional ? [...new Set([...(r.provisional ?? []), region])] : r.provisional,
      }),
    );
  }

  recordOwned(region: string, connectionId: string, fingerprint?: string): Promise<void> {
    return this.update((r) =>
      tidy({
        ...r,
        connections: { ...r.connections, [region]: connectionId },
        pending: r.pending.filter((p) => p !== region),
        fingerprints:
          fingerprint === undefined ? r.fingerprints : { ...r.fingerprints, [region]: fingerprint },
      }),
    );
  }

  /** Drops a region's entry (its owned connection was deleted or is gone). */
  forget(region: string): Promise<void> {
    return this.update((r) => {
      const connections = { ...r.connections };
      delete connections[region];
      const fingerprints = { ...r.fingerprints };
      delete fingerprints[region];
      return tidy({
        ...r,
        connections,
        pending: r.pending.filter((p) => p !== region),
        fingerprints,
        provisional: (r.provisional ?? []).filter((p) => p !== region),
      });
    });
  }

  setDesired(desired: DesiredState): Promise<void> {
    return this.update((r) => ({ ...r, desired }));
  }

  /** Removes the stored record altogether (used once nothing is owned and the resource is deleted). */
  async removeRecord(): Promise<void> {
    if (this.sealed) throw sealedError();
    await this.chain.catch(() => undefined);
    await this.store.remove();
  }

  private update(change: (r: OwnershipRecord) => OwnershipRecord): Promise<void> {
    if (this.sealed) return Promise.reject(sealedError());
    this.record = change(this.record);
    if (this.queued === undefined) {
      const write = this.chain
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          // A write that would start after the deadline could land during a later invocation (a frozen
          // Lambda resumes its old promises) and overwrite what that run recorded.
          if (this.sealed) throw sealedError();
          return this.store.save(this.record);
        });
      this.queued = write;
      this.chain = write;
    }
    return this.queued;
  }
}

/** Drops empty optional fields, so records stay small and compare equal to older ones. */
function tidy(record: OwnershipRecord): OwnershipRecord {
  let r = record;
  if (r.fingerprints !== undefined && Object.keys(r.fingerprints).length === 0)
    r = withoutKey(r, 'fingerprints');
  if (r.provisional !== undefined && r.provisional.length === 0) r = withoutKey(r, 'provisional');
  return r;
}

function withoutKey(record: OwnershipRecord, key: 'fingerprints' | 'provisional'): OwnershipRecord {
  const copy: { -readonly [K in keyof OwnershipRecord]: OwnershipRecord[K] } = { ...record };
  delete copy[key];
  return copy;
}

function sealedError(): OwnershipRecordError {
  return new OwnershipRecordError('the run was stopped at its deadline; nothing more is recorded');
}
