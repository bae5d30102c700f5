/*
 * Falcon's paging, in one place: `limit`/`offset` query endpoints return a page of IDs in `resources`
 * and the total in `meta.pagination.total`. Both offset-paged readers (hosts, registry connections) use
 * this loop, with their own page-size bounds clamped by `pageSizeWithin`.
 */
import type { ApiRequest, FalconApi } from './api.js';

/** Largest `limit` of the query endpoints this project calls. */
export const MAX_PAGE_SIZE = 5000;
/** A runaway-pagination guard far above any real tenant. */
export const MAX_PAGES = 10_000;

export interface OffsetPagedQuery {
  readonly path: string;
  readonly pageSize: number;
  /** Query parameters besides `limit` and `offset` (an FQL `filter`, say). */
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly accept?: ApiRequest['accept'];
  readonly signal?: AbortSignal;
}

/**
 * Every ID of an offset-paged query endpoint, each once. Stops at an empty page, at the reported total,
 * or (when Falcon reports no total) at a short page.
 */
export async function offsetPagedIds(api: FalconApi, request: OffsetPagedQuery): Promise<string[]> {
  const ids = new Set<string>();
  let offset = 0;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const response = await api.request({
      method: 'GET',
      path: request.path,
      query: [...(request.query ?? []), ['limit', String(request.pageSize)], ['offset', String(offset)]],
      ...(request.accept !== undefined ? { accept: request.accept } : {}),
      ...(request.signal !== undefined ? { signal: request.signal } : {}),
    });
    const pageIds = stringsOf(response.envelope?.resources);
    for (const id of pageIds) ids.add(id);
    offset += pageIds.length;
    const total = response.envelope?.pagination?.total;
    if (pageIds.length === 0) break;
    if (total !== undefined ? offset >= total : pageIds.length < request.pageSize) break;
  }
  return [...ids];
}

/** The string entries of an envelope's `resources` (IDs); anything else is left out. */
export function stringsOf(resources: unknown): string[] {
  return Array.isArray(resources) ? resources.filter((r): r is string => typeof r === 'string') : [];
}

/** A configured page or batch size as a whole number within the endpoint's bounds. */
export function pageSizeWithin(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(value)));
}
