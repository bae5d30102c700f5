/** Falcon's response envelope: `{meta: {query_time, trace_id, powered_by?, pagination?}, resources, errors}`. */
export interface FalconPagination {
  readonly offset: number;
  readonly limit: number;
  readonly total: number;
}

export interface FalconEnvelope {
  readonly traceId?: string;
  readonly pagination?: FalconPagination;
  /** Raw `resources`: a list on reads, a single object on create, absent or null on some answers. */
  readonly resources: unknown;
  readonly errors: readonly FalconApiErrorEntry[];
}

export interface FalconApiErrorEntry {
  readonly code?: number;
  readonly message: string;
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function readPagination(value: unknown): FalconPagination | undefined {
  if (!isObject(value)) return undefined;
  const { offset, limit, total } = value;
  if (typeof total !== 'number') return undefined;
  return {
    offset: typeof offset === 'number' ? offset : 0,
    limit: typeof limit === 'number' ? limit : 0,
    total,
  };
}

function readErrors(value: unknown): FalconApiErrorEntry[] {
  if (!Array.isArray(value)) return [];
  const out: FalconApiErrorEntry[] = [];
  for (const entry of value) {
    if (!isObject(entry)) continue;
    const message = optionalString(entry.message);
    if (message === undefined) continue;
    out.push(typeof entry.code === 'number' ? { code: entry.code, message } : { message });
  }
  return out;
}

/**
 * Reads an envelope from a parsed JSON body, tolerating missing `errors`/`resources`/`meta` (the
 * official SDK's deserializers crash on those). Unknown fields are kept in `resources` untouched.
 */
export function readEnvelope(body: unknown, headerTraceId: string | null): FalconEnvelope {
  const root = isObject(body) ? body : {};
  const meta = isObject(root.meta) ? root.meta : {};
  const traceId = optionalString(meta.trace_id) ?? optionalString(headerTraceId);
  const pagination = readPagination(meta.pagination);
  return {
    ...(traceId !== undefined ? { traceId } : {}),
    ...(pagination !== undefined ? { pagination } : {}),
    resources: root.resources,
    errors: readErrors(root.errors),
  };
}
