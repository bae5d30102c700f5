import { equalJitterDelay } from '../shared/backoff.js';
import type { FalconApi } from './api.js';
import type { Clock } from './clock.js';
import { isObject } from './envelope.js';
import { FalconApiError, FalconCredentialValidationError } from './errors.js';
import type { FalconEventListener } from './events.js';
import { MAX_PAGE_SIZE, offsetPagedIds, pageSizeWithin } from './paging.js';
import type { SecretRedactor } from './redact.js';
import type { TransportResponse } from './transport.js';
import type {
  CreateEcrConnectionInput,
  CreatedConnection,
  RegistryConnection,
  RegistryConnectionsApi,
} from './types.js';
import { normalizeRegistryUrl } from './url.js';

export const REGISTRY_QUERY_PATH = '/container-security/queries/registries/v1';
export const REGISTRY_ENTITIES_PATH = '/container-security/entities/registries/v1';

const CREDENTIAL_VALIDATION = /failed to validate (registry )?credential/i;

export interface CredentialValidationPolicy {
  /** How long to keep retrying "failed to validate registry credential" (IAM propagation). @default 180000 */
  readonly timeoutMs: number;
  /** First wait ceiling; doubles per attempt with equal jitter. @default 5000 */
  readonly baseDelayMs: number;
  /** Largest wait ceiling. @default 30000 */
  readonly maxDelayMs: number;
}

export interface RegistryConnectionsOptions {
  /** IDs per query page (1–5000). @default 500 */
  readonly pageSize?: number;
  /** IDs per details/delete request. @default 100 */
  readonly batchSize?: number;
  readonly credentialValidation?: Partial<CredentialValidationPolicy>;
}

export const DEFAULT_CREDENTIAL_VALIDATION: CredentialValidationPolicy = {
  timeoutMs: 180_000,
  baseDelayMs: 5_000,
  maxDelayMs: 30_000,
};

/** Falcon's registry-connection endpoints, with the real-world answers absorbed. */
export class FalconRegistryConnections implements RegistryConnectionsApi {
  private readonly pageSize: number;
  private readonly batchSize: number;
  private readonly validation: CredentialValidationPolicy;

  constructor(
    private readonly api: FalconApi,
    private readonly clock: Clock,
    private readonly onEvent: FalconEventListener,
    options: RegistryConnectionsOptions = {},
    /** Told the external IDs sent, so an answer echoing one never carries it into an error. */
    private readonly redactor?: SecretRedactor,
  ) {
    this.pageSize = pageSizeWithin(options.pageSize ?? 500, 1, MAX_PAGE_SIZE);
    this.batchSize = pageSizeWithin(options.batchSize ?? 100, 1, 500);
    this.validation = { ...DEFAULT_CREDENTIAL_VALIDATION, ...options.credentialValidation };
  }

  async listConnections(signal?: AbortSignal): Promise<RegistryConnection[]> {
    return this.getConnections(await this.listIds(signal), signal);
  }

  /** Every connection ID of the tenant, all pages. */
  async listIds(signal?: AbortSignal): Promise<string[]> {
    return offsetPagedIds(this.api, {
      path: REGISTRY_QUERY_PATH,
      pageSize: this.pageSize,
      accept: [404],
      ...(signal !== undefined ? { signal } : {}),
    });
  }

  /** Details of the given IDs, read in batches; IDs that no longer exist are left out. */
  async getConnections(ids: readonly string[], signal?: AbortSignal): Promise<RegistryConnection[]> {
    const out: RegistryConnection[] = [];
    for (const batch of chunks(unique(ids), this.batchSize)) {
      const response = await this.api.request({
        method: 'GET',
        path: REGISTRY_ENTITIES_PATH,
        query: batch.map((id) => ['ids', id] as const),
        accept: [404],
        ...(signal !== undefined ? { signal } : {}),
      });
      const resources = response.envelope?.resources;
      if (!Array.isArray(resources)) continue;
      for (const raw of resources) {
        const connection = toConnection(raw);
        if (connection !== undefined) out.push(connection);
      }
    }
    return out;
  }

  async findByUrl(url: string, signal?: AbortSignal): Promise<RegistryConnection | undefined> {
    const wanted = normalizeRegistryUrl(url);
    const all = await this.listConnections(signal);
    return all.find((c) => normalizeRegistryUrl(c.url) === wanted);
  }

  async createEcrConnection(
    input: CreateEcrConnectionInput,
    signal?: AbortSignal,
  ): Promise<CreatedConnection> {
    const body = ecrConnectionBody(input);
    // The external ID guards the role's trust policy: keep it out of errors, reasons and logs.
    this.redactor?.add(input.externalId);
    const deadline = this.clock.now() + this.validation.timeoutMs;
    for (let attempt = 1; ; attempt += 1) {
      const response = await this.api.request({
        method: 'POST',
        path: REGISTRY_ENTITIES_PATH,
        json: body,
        accept: [400, 409],
        ...(signal !== undefined ? { signal } : {}),
      });
      if (response.status === 409)
        return this.existing(input.url, response, 'answered 409 (duplicate)', signal);
      if (response.status === 400) {
        const failure = this.api.failure(response);
        if (!(failure.messages ?? []).some((m) => CREDENTIAL_VALIDATION.test(m))) {
          throw new FalconApiError(`registry connection for ${input.url} rejected`, failure);
        }
        const remaining = deadline - this.clock.now();
        if (remaining <= 0) {
          // It may have been saved anyway.
          const saved = await this.findByUrl(input.url, signal);
          if (saved !== undefined) return { ...saved, existed: true };
          throw new FalconCredentialValidationError(
            `Falcon could not validate the role for ${input.url} within ${this.validation.timeoutMs} ms ` +
              `(${attempt} attempts; check the role's trust policy and external ID)`,
            failure,
          );
        }
        const delayMs = Math.min(
          remaining,
          equalJitterDelay(
            attempt,
            this.validation.baseDelayMs,
            this.validation.maxDelayMs,
            this.clock.random(),
          ),
        );
        this.onEvent({
          type: 'credential-validation-retry',
          url: input.url,
          attempt,
          delayMs,
          ...(failure.traceId !== undefined ? { traceId: failure.traceId } : {}),
        });
        await this.clock.sleep(delayMs, signal);
        continue;
      }
      const created = toConnection(
        Array.isArray(response.envelope?.resources)
          ? response.envelope.resources[0]
          : response.envelope?.resources,
      );
      if (created !== undefined) return { ...created, existed: false };
      return this.existing(input.url, response, `answered ${response.status} without a connection`, signal);
    }
  }

  async deleteConnections(ids: readonly string[], signal?: AbortSignal): Promise<void> {
    for (const batch of chunks(unique(ids), this.batchSize)) {
      const response = await this.api.request({
        method: 'DELETE',
        path: REGISTRY_ENTITIES_PATH,
        query: batch.map((id) => ['ids', id] as const),
        accept: [404],
        ...(signal !== undefined ? { signal } : {}),
      });
      if (response.status === 404) continue;
      // Falcon may answer 200 with per-ID errors; "not found" is what we wanted anyway.
      const failure = this.api.failure(response);
      const entries = response.envelope?.errors ?? [];
      const failed = (failure.messages ?? []).filter((message, i) => {
        const code = entries[i]?.code;
        return code !== 404 && !/not (be )?found|does not exist/i.test(message);
      });
      if (failed.length > 0) {
        throw new FalconApiError('some registry connections were not deleted', {
          ...failure,
          messages: failed,
        });
      }
    }
  }

  /** The create did not return the connection (duplicate): find it by URL or fail. */
  private async existing(
    url: string,
    response: TransportResponse,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<CreatedConnection> {
    const found = await this.findByUrl(url, signal);
    if (found !== undefined) return { ...found, existed: true };
    throw new FalconApiError(
      `registry create for ${url} ${what}, but no connection with that URL exists`,
      this.api.failure(response),
    );
  }
}

/**
 * The create body for an ECR connection, as CrowdStrike's own registration code sends it
 * (CrowdStrike/cloud-registry-connections, AWS Lambda): commercial to commercial, the documented
 * `{type, url, user_defined_alias, credential: {details: {aws_iam_role, aws_external_id}}}`; with a
 * government cloud on either side, also `all_repositories_monitored: true`, `credential.type: "ecr"`
 * and `aws_gov_using_commercial_connection` (true or false, a JSON boolean).
 */
export function ecrConnectionBody(input: CreateEcrConnectionInput): Record<string, unknown> {
  const crossing = input.govUsingCommercialConnection === true;
  const gov = input.govCloud === true || crossing;
  return {
    ...(gov ? { all_repositories_monitored: true } : {}),
    type: 'ecr',
    url: input.url,
    ...(input.alias !== undefined ? { user_defined_alias: input.alias } : {}),
    credential: {
      ...(gov ? { type: 'ecr' } : {}),
      details: {
        aws_iam_role: input.roleArn,
        aws_external_id: input.externalId,
        ...(gov ? { aws_gov_using_commercial_connection: crossing } : {}),
      },
    },
  };
}

/** Maps one Falcon registry entity; undefined when it lacks an id or url. */
export function toConnection(raw: unknown): RegistryConnection | undefined {
  if (!isObject(raw) || typeof raw.id !== 'string' || raw.id === '' || typeof raw.url !== 'string') {
    return undefined;
  }
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value !== '' ? value : undefined;
  const alias = text(raw.user_defined_alias);
  const state = text(raw.state);
  const createdAt = text(raw.created_at);
  return {
    id: raw.id,
    type: text(raw.type) ?? '',
    url: raw.url,
    ...(alias !== undefined ? { userDefinedAlias: alias } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(createdAt !== undefined ? { createdAt } : {}),
  };
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids.filter((id) => id !== ''))];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
