import type {
  CreateEcrConnectionInput,
  CreatedConnection,
  RegistryConnection,
  RegistryConnectionsApi,
} from '../../src/falcon/types.js';
import { normalizeRegistryUrl } from '../../src/falcon/url.js';

interface Stored extends RegistryConnection {
  readonly credential: { readonly roleArn: string; readonly externalId: string; readonly gov: boolean };
}

/**
 * An in-memory Falcon tenant for reconcile unit tests: connections with generated IDs, one per URL
 * (a create for a URL that exists answers the existing connection, as the HTTP client does after a 409),
 * deletes that ignore unknown IDs, and failures that can be armed per URL or for listing.
 */
export class MemoryFalcon implements RegistryConnectionsApi {
  private readonly store = new Map<string, Stored>();
  private nextId = 1;
  readonly calls = { list: 0, find: 0, create: 0, delete: 0 };
  readonly deletedIds: string[] = [];
  /** Creates for these URLs (normalized) throw. */
  readonly failCreateFor = new Map<string, string>();
  /** When set, listing throws this message. */
  failList: string | undefined;
  /** Called inside create (before storing), e.g. to block until a test releases it. */
  beforeCreate: ((url: string) => Promise<void>) | undefined;

  /** Seeds a connection someone else created. */
  seed(url: string, alias?: string): RegistryConnection {
    return this.put(url, alias, {
      roleArn: 'arn:aws:iam::000000000000:role/other',
      externalId: 'other',
      gov: false,
    });
  }

  /** Deletes behind the reconcile's back (drift: someone removed it in the console). */
  removeBehindBack(id: string): void {
    this.store.delete(id);
  }

  all(): Stored[] {
    return [...this.store.values()];
  }

  byUrl(url: string): Stored | undefined {
    return this.all().find((c) => normalizeRegistryUrl(c.url) === normalizeRegistryUrl(url));
  }

  listConnections(): Promise<RegistryConnection[]> {
    this.calls.list += 1;
    if (this.failList !== undefined) return Promise.reject(new Error(this.failList));
    return Promise.resolve(this.all().map(({ credential: _c, ...c }) => c));
  }

  findByUrl(url: string): Promise<RegistryConnection | undefined> {
    this.calls.find += 1;
    return Promise.resolve(this.byUrl(url));
  }

  async createEcrConnection(input: CreateEcrConnectionInput): Promise<CreatedConnection> {
    this.calls.create += 1;
    await this.beforeCreate?.(input.url);
    const failure = this.failCreateFor.get(normalizeRegistryUrl(input.url));
    if (failure !== undefined) throw new Error(failure);
    const existing = this.byUrl(input.url);
    if (existing) return { ...existing, existed: true };
    const created = this.put(input.url, input.alias, {
      roleArn: input.roleArn,
      externalId: input.externalId,
      gov: input.govUsingCommercialConnection === true,
    });
    return { ...created, existed: false };
  }

  deleteConnections(ids: readonly string[]): Promise<void> {
    this.calls.delete += 1;
    for (const id of ids) {
      if (this.store.delete(id)) this.deletedIds.push(id);
    }
    return Promise.resolve();
  }

  private put(url: string, alias: string | undefined, credential: Stored['credential']): Stored {
    const id = `conn${String(this.nextId++).padStart(4, '0')}`;
    const stored: Stored = {
      id,
      type: 'ecr',
      url,
      ...(alias !== undefined ? { userDefinedAlias: alias } : {}),
      state: 'pending',
      credential,
    };
    this.store.set(id, stored);
    return stored;
  }
}
