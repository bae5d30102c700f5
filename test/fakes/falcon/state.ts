import { randomBytes, randomUUID } from 'node:crypto';

/** A stored registry connection: the entity Falcon returns plus the write-only credential input. */
export interface FakeConnection {
  readonly id: string;
  type: string;
  url: string;
  user_defined_alias: string;
  url_uniqueness_alias: string;
  state: string;
  state_changed_at: string;
  refresh_interval: number;
  last_refreshed_at: string;
  next_refresh_at: string;
  created_at: string;
  updated_at: string;
  readonly credential: {
    id: string;
    created_at: string;
    updated_at: string;
    expired: boolean;
    expired_at: string;
  };
  /** What the client sent in `credential.details`; never returned by the API (write-only). */
  credentialDetails: Record<string, unknown>;
  /** `all_repositories_monitored` and `credential.type` of the create body, when sent (gov payloads). */
  allRepositoriesMonitored?: boolean;
  credentialType?: string;
}

export interface FakeToken {
  readonly token: string;
  readonly clientId: string;
  readonly memberCid?: string;
  readonly issuedAtMs: number;
  expiresAtMs: number;
  revoked: boolean;
}

/** The Falcon-side normalisation of a registry URL (independent of the client's own). */
export function fakeUrlKey(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url.trim().toLowerCase().replace(/\/+$/, '');
  }
}

export function newConnection(
  input: {
    type: string;
    url: string;
    alias?: string;
    details?: Record<string, unknown>;
    allRepositoriesMonitored?: boolean;
    credentialType?: string;
  },
  nowMs: number,
): FakeConnection {
  const at = new Date(nowMs).toISOString();
  const next = new Date(nowMs + 24 * 3600 * 1000).toISOString();
  return {
    id: randomUUID().replaceAll('-', ''),
    type: input.type,
    url: input.url,
    user_defined_alias: input.alias ?? '',
    url_uniqueness_alias: '',
    state: 'pending',
    state_changed_at: at,
    refresh_interval: 86400,
    last_refreshed_at: at,
    next_refresh_at: next,
    created_at: at,
    updated_at: at,
    credential: { id: randomUUID(), created_at: at, updated_at: at, expired: false, expired_at: '' },
    credentialDetails: { ...input.details },
    ...(input.allRepositoriesMonitored !== undefined
      ? { allRepositoriesMonitored: input.allRepositoriesMonitored }
      : {}),
    ...(input.credentialType !== undefined ? { credentialType: input.credentialType } : {}),
  };
}

/** The entity as the API returns it (domain.ExternalAPIRegistry): credential details are never included. */
export function toEntity(c: FakeConnection): Record<string, unknown> {
  return {
    id: c.id,
    type: c.type,
    url: c.url,
    user_defined_alias: c.user_defined_alias,
    url_uniqueness_alias: c.url_uniqueness_alias,
    state: c.state,
    state_changed_at: c.state_changed_at,
    refresh_interval: c.refresh_interval,
    last_refreshed_at: c.last_refreshed_at,
    next_refresh_at: c.next_refresh_at,
    created_at: c.created_at,
    updated_at: c.updated_at,
    credential: { ...c.credential, details: {} },
  };
}

export function newTokenValue(): string {
  return randomBytes(32).toString('base64url');
}
