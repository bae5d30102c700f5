import { FalconApiError, FalconAuthError, FalconScopeError, type FalconFailure } from './errors.js';
import { scopeForEndpoint } from './scopes.js';
import type { TokenManager } from './token.js';
import type { FalconTransport, TransportRequest, TransportResponse } from './transport.js';

export interface ApiRequest {
  readonly method: TransportRequest['method'];
  readonly path: string;
  readonly query?: ReadonlyArray<readonly [string, string]>;
  /** Sent as application/json. */
  readonly json?: unknown;
  /** Non-2xx statuses the caller handles itself (e.g. 404 on delete, 409 on create). */
  readonly accept?: readonly number[];
  readonly signal?: AbortSignal;
}

/**
 * Authenticated Falcon API calls: bearer token from the TokenManager, one token refresh when Falcon
 * answers 401, and every status that is neither 2xx nor accepted turned into an error.
 */
export class FalconApi {
  constructor(
    private readonly transport: FalconTransport,
    private readonly tokens: TokenManager,
    private readonly cloud?: string,
  ) {}

  /** When Falcon named a home region for the API client that differs from the configured cloud. */
  private regionHint(): string {
    const region = this.tokens.region;
    if (this.cloud === undefined || region === undefined || region.toLowerCase() === this.cloud) return '';
    return `, or in Falcon cloud "${region}" rather than the configured "${this.cloud}"`;
  }

  /** Status, trace ID and (redacted) messages of an answer, for errors. */
  failure(response: TransportResponse): FalconFailure {
    return this.transport.failure(response);
  }

  async request(request: ApiRequest): Promise<TransportResponse> {
    const body = request.json === undefined ? undefined : JSON.stringify(request.json);
    const send = async (token: string): Promise<TransportResponse> =>
      this.transport.send({
        method: request.method,
        path: request.path,
        ...(request.query !== undefined ? { query: request.query } : {}),
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body } : {}),
        ...(request.signal !== undefined ? { signal: request.signal } : {}),
      });

    const first = await this.tokens.get(request.signal);
    let response = await send(first);
    if (response.status === 401) {
      this.tokens.reject(first);
      response = await send(await this.tokens.get(request.signal));
      if (response.status === 401) {
        throw new FalconAuthError(
          `a freshly issued token was rejected too (is the API client disabled${this.regionHint()}?)`,
          this.transport.failure(response),
        );
      }
    }
    const ok = (response.status >= 200 && response.status < 300) || request.accept?.includes(response.status);
    if (ok === true) return response;
    if (response.status === 403) {
      // The token was issued, so the client is known to Falcon: a 403 here is a missing scope.
      const scope = scopeForEndpoint(request.method, request.path);
      const needed = scope === undefined ? 'the scope this endpoint needs' : `the "${scope}" scope`;
      throw new FalconScopeError(
        `access denied (does the API client have ${needed}${this.regionHint()}?)`,
        this.transport.failure(response),
        scope,
      );
    }
    throw new FalconApiError('request failed', this.transport.failure(response));
  }
}
