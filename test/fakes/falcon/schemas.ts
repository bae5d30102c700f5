/**
 * The response and request shapes of the Falcon swagger (2023 excerpt: registry connections, OAuth2),
 * transcribed as zod schemas for tests. Names follow the swagger definitions. Objects accept extra
 * fields, as swagger 2.0 does.
 */
import { z } from 'zod';
import { HOSTS_RESPONSE_SCHEMAS, HOSTS_SCHEMAS } from './hosts-schemas.js';
import type { FakeRoute } from './quirks.js';

const int = z.number().int();

export const msaAPIError = z.object({ code: int, id: z.string().optional(), message: z.string() });

export const msaPaging = z.object({ limit: int, offset: int, total: int });

export const msaResources = z.object({ resources_affected: int });

export const msaMetaInfo = z.object({
  query_time: z.number(),
  trace_id: z.string(),
  powered_by: z.string().optional(),
  pagination: msaPaging.optional(),
  writes: msaResources.optional(),
});

export const msaReplyMetaOnly = z.object({ meta: msaMetaInfo, errors: z.array(msaAPIError).optional() });

export const domainAccessTokenResponseV1 = z.object({
  access_token: z.string().optional(),
  expires_in: int.optional(),
  id_token: z.string().optional(),
  issued_token_type: z.string().optional(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
  token_type: z.string().optional(),
});

export const domainExternalCredentialResponse = z.object({
  created_at: z.string(),
  details: z.record(z.string(), z.unknown()),
  expired: z.boolean(),
  expired_at: z.string(),
  id: z.string(),
  updated_at: z.string(),
});

export const domainExternalAPIRegistry = z.object({
  created_at: z.string(),
  credential: domainExternalCredentialResponse.optional(),
  id: z.string(),
  last_refreshed_at: z.string(),
  next_refresh_at: z.string(),
  refresh_interval: int,
  state: z.string(),
  state_changed_at: z.string(),
  type: z.string(),
  updated_at: z.string(),
  url: z.string(),
  url_uniqueness_alias: z.string(),
  user_defined_alias: z.string(),
});

export const domainExternalQueryResponse = z.object({
  meta: msaMetaInfo,
  errors: z.array(msaAPIError).optional(),
  resources: z.array(z.string()).optional(),
});

export const domainExternalRegistryListResponse = z.object({
  meta: msaMetaInfo,
  errors: z.array(msaAPIError).optional(),
  resources: z.array(domainExternalAPIRegistry).optional(),
});

export const domainExternalRegistryResponse = z.object({
  meta: msaMetaInfo,
  errors: z.array(msaAPIError).optional(),
  resources: domainExternalAPIRegistry.optional(),
});

/*
 * `credential.type` and `all_repositories_monitored` are not in the swagger; CrowdStrike's registration
 * Lambda sends them for government clouds (reference spec, x-field-notes), so they are transcribed as
 * optional, with the types that Lambda sends.
 */
export const registryassessmentExternalCredPayload = z.object({
  details: z.record(z.string(), z.unknown()),
  type: z.string().optional(),
});

export const registryassessmentExternalRegistryPayload = z.object({
  credential: registryassessmentExternalCredPayload,
  type: z.string(),
  url: z.string(),
  url_uniqueness_key: z.string().optional(),
  user_defined_alias: z.string().optional(),
  all_repositories_monitored: z.boolean().optional(),
});

export const SCHEMAS = {
  'msa.APIError': msaAPIError,
  'msa.Paging': msaPaging,
  'msa.Resources': msaResources,
  'msa.MetaInfo': msaMetaInfo,
  'msa.ReplyMetaOnly': msaReplyMetaOnly,
  'domain.AccessTokenResponseV1': domainAccessTokenResponseV1,
  'domain.ExternalCredentialResponse': domainExternalCredentialResponse,
  'domain.ExternalAPIRegistry': domainExternalAPIRegistry,
  'domain.ExternalQueryResponse': domainExternalQueryResponse,
  'domain.ExternalRegistryListResponse': domainExternalRegistryListResponse,
  'domain.ExternalRegistryResponse': domainExternalRegistryResponse,
  'registryassessment.externalCredPayload': registryassessmentExternalCredPayload,
  'registryassessment.externalRegistryPayload': registryassessmentExternalRegistryPayload,
  ...HOSTS_SCHEMAS,
} as const;

export type SchemaName = keyof typeof SCHEMAS;

type Route = FakeRoute;

/** Which definition each documented status of each operation answers with (from the swagger paths). */
export const RESPONSE_SCHEMAS: Readonly<Record<Route, Readonly<Record<number, SchemaName>>>> = {
  // Not in the swagger excerpt (reference/falcon-registries-api.spec.json): only the envelope is checked.
  'sensors.ccid': { 200: 'msa.ReplyMetaOnly', 403: 'msa.ReplyMetaOnly', 429: 'msa.ReplyMetaOnly' },
  'images.credentials': { 200: 'msa.ReplyMetaOnly', 403: 'msa.ReplyMetaOnly', 429: 'msa.ReplyMetaOnly' },
  'policies.sensorUpdate': { 200: 'msa.ReplyMetaOnly', 403: 'msa.ReplyMetaOnly', 429: 'msa.ReplyMetaOnly' },
  token: {
    201: 'domain.AccessTokenResponseV1',
    400: 'msa.ReplyMetaOnly',
    403: 'msa.ReplyMetaOnly',
    429: 'msa.ReplyMetaOnly',
    500: 'msa.ReplyMetaOnly',
  },
  revoke: {
    200: 'msa.ReplyMetaOnly',
    400: 'msa.ReplyMetaOnly',
    403: 'msa.ReplyMetaOnly',
    429: 'msa.ReplyMetaOnly',
    500: 'msa.ReplyMetaOnly',
  },
  'registries.query': {
    200: 'domain.ExternalQueryResponse',
    403: 'msa.ReplyMetaOnly',
    404: 'domain.ExternalQueryResponse',
    429: 'msa.ReplyMetaOnly',
    500: 'domain.ExternalQueryResponse',
  },
  'registries.get': {
    200: 'domain.ExternalRegistryListResponse',
    403: 'msa.ReplyMetaOnly',
    404: 'domain.ExternalRegistryListResponse',
    429: 'msa.ReplyMetaOnly',
    500: 'domain.ExternalRegistryListResponse',
  },
  'registries.create': {
    201: 'domain.ExternalRegistryResponse',
    400: 'domain.ExternalRegistryResponse',
    403: 'msa.ReplyMetaOnly',
    409: 'domain.ExternalRegistryResponse',
    429: 'msa.ReplyMetaOnly',
    500: 'domain.ExternalRegistryResponse',
  },
  'registries.update': {
    200: 'domain.ExternalRegistryResponse',
    400: 'domain.ExternalRegistryResponse',
    403: 'msa.ReplyMetaOnly',
    404: 'domain.ExternalRegistryResponse',
    429: 'msa.ReplyMetaOnly',
    500: 'domain.ExternalRegistryResponse',
  },
  'registries.delete': {
    200: 'domain.ExternalRegistryListResponse',
    403: 'msa.ReplyMetaOnly',
    429: 'msa.ReplyMetaOnly',
  },
  ...HOSTS_RESPONSE_SCHEMAS,
};

/** Headers every documented answer carries; 429s add X-RateLimit-RetryAfter, token 201s X-CS-Region. */
export const REQUIRED_HEADERS = ['x-cs-traceid', 'x-ratelimit-limit', 'x-ratelimit-remaining'] as const;
