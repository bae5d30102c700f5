import { randomUUID } from 'node:crypto';

/** A Falcon API error entry (msa.APIError). */
export interface FakeApiError {
  readonly code: number;
  readonly message: string;
}

export interface FakeReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** JSON-serialised unless it is a string (sent as is; '' = empty body). */
  readonly body: unknown;
}

export interface EnvelopeParts {
  readonly resources?: unknown;
  readonly errors?: readonly FakeApiError[];
  readonly pagination?: { offset: number; limit: number; total: number };
  readonly traceId?: string;
}

/** `{meta: {query_time, trace_id, powered_by, pagination?}, resources, errors}` as Falcon sends it. */
export function envelope(parts: EnvelopeParts): Record<string, unknown> {
  return {
    meta: {
      query_time: Math.round(Math.random() * 1e6) / 1e9,
      trace_id: parts.traceId ?? randomUUID(),
      powered_by: 'falcon-org-fake',
      ...(parts.pagination !== undefined ? { pagination: parts.pagination } : {}),
    },
    ...(parts.resources !== undefined ? { resources: parts.resources } : {}),
    errors: parts.errors ?? [],
  };
}

/** The headers every Falcon answer carries (X-CS-TRACEID, rate-limit counters). */
export function standardHeaders(traceId: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-cs-traceid': traceId,
    'x-ratelimit-limit': '6000',
    'x-ratelimit-remaining': '5999',
  };
}

/** An envelope reply with matching trace ID in header and body. */
export function reply(
  status: number,
  parts: EnvelopeParts = {},
  extraHeaders: Record<string, string> = {},
): FakeReply {
  const traceId = parts.traceId ?? randomUUID();
  return {
    status,
    headers: { ...standardHeaders(traceId), ...extraHeaders },
    body: envelope({ ...parts, traceId }),
  };
}

/** A reply with only meta and errors (msa.ReplyMetaOnly). */
export function errorReply(
  status: number,
  message: string,
  extraHeaders: Record<string, string> = {},
): FakeReply {
  return reply(status, { errors: [{ code: status, message }] }, extraHeaders);
}
