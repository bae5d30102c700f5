import { randomUUID } from 'node:crypto';
import { errorReply, reply, type FakeApiError, type FakeReply } from './envelope.js';
import type { FakeRoute } from './quirks.js';
import type { FakeRequest } from './routes.js';

/** A device as the fake stores it, in Falcon's wire field names. */
export interface FakeHost {
  device_id: string;
  hostname?: string;
  instance_id?: string;
  service_provider?: string;
  service_provider_account_id?: string;
  zone_group?: string;
  platform_name?: string;
  agent_version?: string;
  first_seen?: string;
  last_seen?: string;
  status?: string;
  /** Kubernetes fields of a node or sidecar host (the device API names no cluster, only its Falcon ID). */
  k8s_cluster_id?: string;
  k8s_cluster_version?: string;
  k8s_node_uid?: string;
  pod_namespace?: string;
  pod_name?: string;
}

const MAX_LIMIT = 5000;

/** A time as Falcon writes it: ISO 8601 in UTC, whole seconds (`2026-11-29T12:00:00Z`). */
export function falconTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
/** The offset endpoint refuses offsets beyond this (Falcon caps deep paging). */
const MAX_OFFSET = 10_000;
/** Most IDs of one GET details request. */
const MAX_GET_IDS = 100;

/**
 * The hosts (devices) endpoints of the stand-in: IDs by FQL filter with offset paging or the scroll
 * cursor (an opaque string in meta.pagination.offset), and details by GET ?ids= (≤ 100) or POST
 * {"ids": […]} (≤ 5000). FQL: `field:'v'`, `field:['a','b']`, terms joined with `+`.
 */
export class FakeHosts {
  readonly hosts = new Map<string, FakeHost>();
  /** The tenant's clock: a host added without times was first seen 28 days before it, last seen at it. */
  now: () => Date = () => new Date();
  /** Open scroll cursors → (filter, position). */
  private readonly cursors = new Map<string, { filter: string; position: number }>();
  /**
   * Hosts by `service_provider_account_id` as they were added, so a query per AWS account does not scan
   * every host of a large tenant (the benchmark's 255,000). Only narrows the candidates: every term is
   * still checked on each one, so a host removed from `hosts` is not found.
   */
  private readonly byAccount = new Map<string, FakeHost[]>();

  add(host: Omit<FakeHost, 'device_id'> & { device_id?: string }): FakeHost {
    const stored: FakeHost = {
      status: 'normal',
      service_provider: 'AWS_EC2_V2',
      platform_name: 'Linux',
      agent_version: '7.20.17308.0',
      first_seen: falconTime(this.now().getTime() - 28 * 86_400_000),
      last_seen: falconTime(this.now().getTime()),
      ...host,
      device_id: host.device_id ?? randomUUID().replaceAll('-', ''),
    };
    this.hosts.set(stored.device_id, stored);
    if (stored.service_provider_account_id !== undefined) {
      const list = this.byAccount.get(stored.service_provider_account_id);
      if (list) list.push(stored);
      else this.byAccount.set(stored.service_provider_account_id, [stored]);
    }
    return stored;
  }

  handle(route: FakeRoute, req: FakeRequest): FakeReply {
    if (route === 'hosts.query') return this.query(req);
    if (route === 'hosts.scroll') return this.scroll(req);
    if (route === 'hosts.get') return this.getDetails(req);
    return this.postDetails(req);
  }

  query(req: FakeRequest): FakeReply {
    const limit = req.query.has('limit') ? Number(req.query.get('limit')) : 100;
    const offset = req.query.has('offset') ? Number(req.query.get('offset')) : 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return errorReply(400, `limit must be between 1 and ${MAX_LIMIT}`);
    }
    if (!Number.isInteger(offset) || offset < 0)
      return errorReply(400, 'offset must be a non-negative integer');
    if (offset + limit > MAX_OFFSET) {
      return errorReply(400, `offset + limit must not exceed ${MAX_OFFSET}; use the scroll endpoint`);
    }
    const matched = this.matching(req.query.get('filter') ?? '');
    if (typeof matched === 'string') return errorReply(400, matched);
    const ids = matched.slice(offset, offset + limit).map((h) => h.device_id);
    return reply(200, { resources: ids, pagination: { offset, limit, total: matched.length } });
  }

  scroll(req: FakeRequest): FakeReply {
    const limit = req.query.has('limit') ? Number(req.query.get('limit')) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return errorReply(400, `limit must be between 1 and ${MAX_LIMIT}`);
    }
    const filter = req.query.get('filter') ?? '';
    const cursorText = req.query.get('offset');
    let position = 0;
    if (cursorText !== null && cursorText !== '') {
      const cursor = this.cursors.get(cursorText);
      if (cursor === undefined) return errorReply(400, 'invalid or expired offset');
      if (cursor.filter !== filter) return errorReply(400, 'offset does not belong to this filter');
      position = cursor.position;
    }
    const matched = this.matching(filter);
    if (typeof matched === 'string') return errorReply(400, matched);
    const ids = matched.slice(position, position + limit).map((h) => h.device_id);
    const next = `scroll-${randomUUID()}`;
    this.cursors.set(next, { filter, position: position + ids.length });
    const traceId = randomUUID();
    const base = reply(200, { resources: ids, traceId });
    // The scroll endpoint's pagination carries the cursor string as `offset` and an `expires_at`.
    const body = base.body as { meta: Record<string, unknown> };
    body.meta.pagination = {
      offset: next,
      limit,
      total: matched.length,
      expires_at: Date.now() + 120_000,
    };
    return base;
  }

  getDetails(req: FakeRequest): FakeReply {
    const ids = req.query
      .getAll('ids')
      .flatMap((v) => v.split(','))
      .filter((v) => v !== '');
    if (ids.length === 0) return errorReply(400, 'ids is required');
    if (ids.length > MAX_GET_IDS) return errorReply(400, `at most ${MAX_GET_IDS} ids per GET; use POST`);
    return this.detailsOf(ids);
  }

  postDetails(req: FakeRequest): FakeReply {
    let body: unknown;
    try {
      body = JSON.parse(req.bodyText);
    } catch {
      return errorReply(400, 'invalid JSON body');
    }
    const ids = (body as { ids?: unknown } | null)?.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string')) {
      return errorReply(400, 'ids must be a non-empty list of strings');
    }
    if (ids.length > MAX_LIMIT) return errorReply(400, `at most ${MAX_LIMIT} ids per request`);
    return this.detailsOf(ids);
  }

  private detailsOf(ids: readonly string[]): FakeReply {
    const found: FakeHost[] = [];
    const errors: FakeApiError[] = [];
    for (const id of ids) {
      const host = this.hosts.get(id);
      if (host === undefined) errors.push({ code: 404, message: `device ${id} not found` });
      else found.push(host);
    }
    return reply(found.length === 0 ? 404 : 200, { resources: found, errors });
  }

  /** Hosts matching an FQL filter, in a stable order; a string is a parse error. */
  private matching(filter: string): FakeHost[] | string {
    const terms = parseFql(filter);
    if (typeof terms === 'string') return terms;
    const byAccount = terms.find((t) => t.field === 'service_provider_account_id');
    const candidates =
      byAccount === undefined
        ? [...this.hosts.values()]
        : byAccount.values.flatMap((a) =>
            (this.byAccount.get(a) ?? []).filter((h) => this.hosts.get(h.device_id) === h),
          );
    return candidates
      .filter((h) =>
        terms.every((t) => {
          const value = (h as unknown as Record<string, unknown>)[t.field];
          return typeof value === 'string' && t.values.includes(value);
        }),
      )
      .sort((a, b) => a.device_id.localeCompare(b.device_id));
  }
}

interface FqlTerm {
  readonly field: string;
  readonly values: readonly string[];
}

/** The small FQL subset the fake understands: `field:'v'` and `field:['a','b']`, joined with `+`. */
export function parseFql(filter: string): FqlTerm[] | string {
  if (filter.trim() === '') return [];
  const terms: FqlTerm[] = [];
  const re = /^([a-z_][a-z0-9_.]*):(?:'([^']*)'|\[((?:'[^']*'\s*,?\s*)*)\])(\+|$)/i;
  let rest = filter.trim();
  while (rest !== '') {
    const m = re.exec(rest);
    if (m === null) return `invalid filter near "${rest.slice(0, 40)}"`;
    const field = m[1] ?? '';
    const values =
      m[2] !== undefined ? [m[2]] : [...(m[3] ?? '').matchAll(/'([^']*)'/g)].map((v) => v[1] ?? '');
    terms.push({ field, values });
    rest = rest.slice(m[0].length);
  }
  return terms;
}

/** The hosts routes by method and path (undefined for any other path). */
export function hostsRouteOf(method: string, path: string): FakeRoute | undefined {
  if (method === 'GET' && path === '/devices/queries/devices/v1') return 'hosts.query';
  if (method === 'GET' && path === '/devices/queries/devices-scroll/v1') return 'hosts.scroll';
  if (path === '/devices/entities/devices/v2') {
    if (method === 'GET') return 'hosts.get';
    if (method === 'POST') return 'hosts.post';
  }
  return undefined;
}
