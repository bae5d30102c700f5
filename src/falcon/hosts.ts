import type { FalconApi } from './api.js';
import { isObject } from './envelope.js';
import { FalconApiError } from './errors.js';
import { MAX_PAGE_SIZE, MAX_PAGES, offsetPagedIds, pageSizeWithin, stringsOf } from './paging.js';
import type { TransportResponse } from './transport.js';

export const HOSTS_QUERY_PATH = '/devices/queries/devices/v1';
export const HOSTS_SCROLL_PATH = '/devices/queries/devices-scroll/v1';
export const HOSTS_ENTITIES_PATH = '/devices/entities/devices/v2';

/** A host (device) as Falcon reports it; only the fields coverage reads. */
export interface FalconHostEntity {
  readonly deviceId: string;
  readonly hostname?: string;
  readonly instanceId?: string;
  readonly serviceProvider?: string;
  readonly serviceProviderAccountId?: string;
  readonly zoneGroup?: string;
  readonly platformName?: string;
  readonly agentVersion?: string;
  readonly firstSeen?: string;
  readonly lastSeen?: string;
  readonly status?: string;
  /**
   * Falcon's ID of the Kubernetes cluster a node (or sidecar pod) belongs to (`k8s_cluster_id`). The
   * device API has no cluster name: coverage ties a node to its EKS cluster by instance ID (the
   * instance's cluster tags) and shows this ID alongside.
   */
  readonly k8sClusterId?: string;
}

export interface HostsOptions {
  /** IDs per query page (1–5000). @default 1000 */
  readonly pageSize?: number;
  /** IDs per details request (1–5000). @default 1000 */
  readonly batchSize?: number;
}

/**
 * Falcon's hosts (devices) endpoints: IDs by FQL filter (offset paging or the scroll cursor) and
 * details by ID. Retries, rate-limit waits, token refresh and redaction are the transport's, as for
 * the registry calls.
 *
 * @example
 * const hosts = new FalconHosts(client.api);
 * const seen = await hosts.find(`service_provider_account_id:'123456789012'`);
 */
export class FalconHosts {
  private readonly pageSize: number;
  private readonly batchSize: number;

  constructor(
    private readonly api: FalconApi,
    options: HostsOptions = {},
  ) {
    this.pageSize = pageSizeWithin(options.pageSize ?? 1000, 1, MAX_PAGE_SIZE);
    this.batchSize = pageSizeWithin(options.batchSize ?? 1000, 1, MAX_PAGE_SIZE);
  }

  /** Every host matching the FQL filter, with details. */
  async find(filter: string, signal?: AbortSignal): Promise<FalconHostEntity[]> {
    return this.details(await this.scrollIds(filter, signal), signal);
  }

  /** Hosts Falcon sees in one AWS account (its `service_provider_account_id`). */
  async inAwsAccount(accountId: string, signal?: AbortSignal): Promise<FalconHostEntity[]> {
    return this.find(awsAccountFilter(accountId), signal);
  }

  /**
   * Host IDs with offset paging (`/devices/queries/devices/v1`). Falcon caps deep offsets; prefer
   * {@link FalconHosts.scrollIds} for large tenants.
   */
  async queryIds(filter: string, signal?: AbortSignal): Promise<string[]> {
    return offsetPagedIds(this.api, {
      path: HOSTS_QUERY_PATH,
      pageSize: this.pageSize,
      query: filterParam(filter),
      ...(signal !== undefined ? { signal } : {}),
    });
  }

  /** Host IDs with the scroll cursor (`/devices/queries/devices-scroll/v1`, `offset` = the cursor). */
  async scrollIds(filter: string, signal?: AbortSignal): Promise<string[]> {
    const ids = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const response = await this.api.request({
        method: 'GET',
        path: HOSTS_SCROLL_PATH,
        query: [
          ...filterParam(filter),
          ['limit', String(this.pageSize)],
          ...(cursor !== undefined ? [['offset', cursor] as const] : []),
        ],
        ...(signal !== undefined ? { signal } : {}),
      });
      const pageIds = stringsOf(response.envelope?.resources);
      for (const id of pageIds) ids.add(id);
      const next = scrollCursor(response);
      const total = response.envelope?.pagination?.total;
      if (pageIds.length === 0 || next === undefined || next === cursor) break;
      if (total !== undefined && ids.size >= total) break;
      cursor = next;
    }
    return [...ids];
  }

  /** Details of the given host IDs (POST, in batches); IDs Falcon no longer knows are left out. */
  async details(ids: readonly string[], signal?: AbortSignal): Promise<FalconHostEntity[]> {
    const out: FalconHostEntity[] = [];
    const unique = [...new Set(ids.filter((id) => id !== ''))];
    for (let i = 0; i < unique.length; i += this.batchSize) {
      const batch = unique.slice(i, i + this.batchSize);
      const response = await this.api.request({
        method: 'POST',
        path: HOSTS_ENTITIES_PATH,
        json: { ids: batch },
        accept: [404],
        ...(signal !== undefined ? { signal } : {}),
      });
      const resources = response.envelope?.resources;
      if (response.status === 404 && !Array.isArray(resources)) continue;
      if (!Array.isArray(resources)) {
        throw new FalconApiError('host details answer carries no resources', this.api.failure(response));
      }
      for (const raw of resources) {
        const host = toHost(raw);
        if (host !== undefined) out.push(host);
      }
    }
    return out;
  }
}

/** FQL for the hosts of one AWS account; rejects anything but a 12-digit ID (no FQL injection). */
export function awsAccountFilter(accountId: string): string {
  if (!/^\d{12}$/.test(accountId))
    throw new RangeError(`expected a 12-digit AWS account ID, got "${accountId}"`);
  return `service_provider_account_id:'${accountId}'`;
}

/** FQL for the given EC2 instance IDs (checked, so none can break out of the quotes). */
export function instanceIdsFilter(instanceIds: readonly string[]): string {
  for (const id of instanceIds) {
    if (!/^i-[0-9a-f]{8,32}$/.test(id)) throw new RangeError(`expected an EC2 instance ID, got "${id}"`);
  }
  return `instance_id:[${instanceIds.map((id) => `'${id}'`).join(',')}]`;
}

/** Maps one device entity; undefined when it has no device_id. */
export function toHost(raw: unknown): FalconHostEntity | undefined {
  if (!isObject(raw) || typeof raw.device_id !== 'string' || raw.device_id === '') return undefined;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value !== '' ? value : undefined;
  const fields: [keyof FalconHostEntity, string | undefined][] = [
    ['hostname', text(raw.hostname)],
    ['instanceId', text(raw.instance_id)],
    ['serviceProvider', text(raw.service_provider)],
    ['serviceProviderAccountId', text(raw.service_provider_account_id)],
    ['zoneGroup', text(raw.zone_group)],
    ['platformName', text(raw.platform_name)],
    ['agentVersion', text(raw.agent_version)],
    ['firstSeen', text(raw.first_seen)],
    ['lastSeen', text(raw.last_seen)],
    ['status', text(raw.status)],
    ['k8sClusterId', text(raw.k8s_cluster_id)],
  ];
  const host: Record<string, string> = { deviceId: raw.device_id };
  for (const [key, value] of fields) if (value !== undefined) host[key] = value;
  return host as unknown as FalconHostEntity;
}

function filterParam(filter: string): (readonly [string, string])[] {
  return filter === '' ? [] : [['filter', filter]];
}

/** The scroll endpoint returns its cursor as a string in meta.pagination.offset. */
function scrollCursor(response: TransportResponse): string | undefined {
  const body = response.body;
  if (!isObject(body) || !isObject(body.meta) || !isObject(body.meta.pagination)) return undefined;
  const offset = body.meta.pagination.offset;
  if (typeof offset === 'string' && offset !== '') return offset;
  return undefined;
}
