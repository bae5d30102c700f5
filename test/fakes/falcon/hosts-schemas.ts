/**
 * Answer shapes of the hosts (devices) endpoints as the reference notes describe them: the usual
 * envelope; the offset query pages with an integer `offset`, the scroll query with a string cursor.
 */
import { z } from 'zod';

const int = z.number().int();
const apiError = z.object({ code: int, id: z.string().optional(), message: z.string() });
const meta = (pagination: z.ZodType) =>
  z.object({
    query_time: z.number(),
    trace_id: z.string(),
    powered_by: z.string().optional(),
    pagination: pagination.optional(),
  });

export const hostsQueryResponse = z.object({
  meta: meta(z.object({ limit: int, offset: int, total: int })),
  errors: z.array(apiError).optional(),
  resources: z.array(z.string()),
});

export const hostsScrollResponse = z.object({
  meta: meta(z.object({ limit: int, offset: z.string(), total: int, expires_at: int.optional() })),
  errors: z.array(apiError).optional(),
  resources: z.array(z.string()),
});

export const hostsDetailsResponse = z.object({
  meta: meta(z.never()),
  errors: z.array(apiError).optional(),
  resources: z.array(z.object({ device_id: z.string() }).loose()),
});

export const HOSTS_SCHEMAS = {
  'deviceapi.DeviceQueryResponse': hostsQueryResponse,
  'deviceapi.DeviceScrollResponse': hostsScrollResponse,
  'deviceapi.DeviceDetailsResponse': hostsDetailsResponse,
} as const;

const errors = { 400: 'msa.ReplyMetaOnly', 403: 'msa.ReplyMetaOnly', 429: 'msa.ReplyMetaOnly' } as const;

export const HOSTS_RESPONSE_SCHEMAS = {
  'hosts.query': { 200: 'deviceapi.DeviceQueryResponse', ...errors },
  'hosts.scroll': { 200: 'deviceapi.DeviceScrollResponse', ...errors },
  'hosts.get': { 200: 'deviceapi.DeviceDetailsResponse', 404: 'deviceapi.DeviceDetailsResponse', ...errors },
  'hosts.post': { 200: 'deviceapi.DeviceDetailsResponse', 404: 'deviceapi.DeviceDetailsResponse', ...errors },
} as const;
