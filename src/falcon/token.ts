import type { Clock } from './clock.js';
import { isObject } from './envelope.js';
import { FalconApiError, FalconCredentialsRejectedError } from './errors.js';
import type { FalconEventListener } from './events.js';
import type { SecretRedactor } from './redact.js';
import type { FalconTransport, TransportResponse } from './transport.js';

/** An API client of the Falcon tenant (scope falcon-container-image read/write for registries). */
export interface FalconCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Flight Control: lock the token to this child CID. */
  readonly memberCid?: string;
}

interface CachedToken {
  readonly token: string;
  /** When to ask for a new one (expiry minus the safety margin). */
  readonly refreshAtMs: number;
}

const TOKEN_PATH = '/oauth2/token';
const REVOKE_PATH = '/oauth2/revoke';
/**
 * Revoking is a courtesy (the token expires anyway): it must never hold up the caller's result, e.g. a
 * Lambda that still has to answer CloudFormation, for the full retry budget of a real request.
 */
const REVOKE_BUDGET_MS = 5_000;

/**
 * OAuth2 client-credentials tokens: one request at a time, cached until `expires_in` minus a margin
 * (at most half the lifetime), dropped when an API call is answered 401, revoked on close.
 */
export class TokenManager {
  private current: CachedToken | undefined;
  private pending: Promise<string> | undefined;
  private rejected = false;
  private lastRegion: string | undefined;

  constructor(
    private readonly transport: FalconTransport,
    private readonly credentials: FalconCredentials,
    private readonly clock: Clock,
    private readonly refreshMarginMs: number,
    private readonly redactor: SecretRedactor,
    private readonly onEvent: FalconEventListener,
  ) {}

  /**
   * A token valid for at least the margin; issues one when needed (concurrent callers share it).
   * An aborted `signal` stops this caller's wait, not the shared token request.
   */
  async get(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const current = this.current;
    if (current !== undefined && this.clock.now() < current.refreshAtMs) return current.token;
    if (this.pending === undefined) {
      const reason = this.rejected ? 'rejected' : current === undefined ? 'initial' : 'expiring';
      this.pending = this.issue(reason).finally(() => {
        this.pending = undefined;
      });
    }
    return signal === undefined ? this.pending : abortable(this.pending, signal);
  }

  /** The region Falcon named in the last token answer (X-CS-Region), if any. */
  get region(): string | undefined {
    return this.lastRegion;
  }

  /** Falcon answered 401 to this token: forget it (if it is still the cached one). */
  reject(token: string): void {
    if (this.current?.token === token) {
      this.current = undefined;
      this.rejected = true;
    }
  }

  /** Revokes the cached token, if any; best effort (failures are reported as events, not thrown). */
  async revoke(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current === undefined) return;
    const { clientId, clientSecret } = this.credentials;
    try {
      const response = await this.transport.send({
        method: 'POST',
        path: REVOKE_PATH,
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: current.token, client_id: clientId }).toString(),
        signal: AbortSignal.timeout(REVOKE_BUDGET_MS),
      });
      if (response.status >= 300) throw new FalconApiError('revoke failed', this.transport.failure(response));
      this.onEvent({ type: 'token-revoked' });
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.onEvent({ type: 'token-revoke-failed', error: this.redactor.redact(text) });
    }
  }

  private async issue(reason: 'initial' | 'expiring' | 'rejected'): Promise<string> {
    const { clientId, clientSecret, memberCid } = this.credentials;
    const form = new URLSearchParams({ client_id: clientId, client_secret: clientSecret });
    if (memberCid !== undefined && memberCid !== '') form.set('member_cid', memberCid);
    const requestedAt = this.clock.now();
    const response = await this.transport.send({
      method: 'POST',
      path: TOKEN_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const token = this.readToken(response);
    this.lastRegion = response.headers.get('x-cs-region') ?? undefined;
    this.redactor.add(token.accessToken);
    const lifetimeMs = token.expiresInSeconds * 1000;
    const margin = Math.min(this.refreshMarginMs, lifetimeMs / 2);
    this.current = { token: token.accessToken, refreshAtMs: requestedAt + lifetimeMs - margin };
    this.rejected = false;
    this.onEvent({
      type: 'token-issued',
      expiresInSeconds: token.expiresInSeconds,
      reason,
      ...(this.lastRegion !== undefined ? { region: this.lastRegion } : {}),
    });
    return token.accessToken;
  }

  private readToken(response: TransportResponse): { accessToken: string; expiresInSeconds: number } {
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      throw new FalconCredentialsRejectedError(
        'the API client credentials were rejected (check the client ID, secret, member CID and cloud; a missing scope does not cause this)',
        this.transport.failure(response),
      );
    }
    if (response.status !== 200 && response.status !== 201) {
      throw new FalconApiError('unexpected answer to the token request', this.transport.failure(response));
    }
    const body = response.body;
    if (!isObject(body) || typeof body.access_token !== 'string' || body.access_token === '') {
      throw new FalconApiError('token answer has no access_token', this.transport.failure(response));
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 1799;
    return { accessToken: body.access_token, expiresInSeconds: expiresIn };
  }
}

/** Resolves or rejects like `promise`, or rejects with the signal's reason when it aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}
