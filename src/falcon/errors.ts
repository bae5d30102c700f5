import { UserInputError } from '../config/errors.js';

/** What Falcon said about a failed request. Never contains credentials or tokens. */
export interface FalconFailure {
  /** e.g. "POST /container-security/entities/registries/v1" (no query string, no body). */
  readonly operation: string;
  /** HTTP status, when Falcon answered at all. */
  readonly status?: number;
  /** `meta.trace_id` (or the X-CS-TRACEID header): quote it to CrowdStrike support. */
  readonly traceId?: string;
  /** Falcon's `errors[].message`s, in order. */
  readonly messages?: readonly string[];
}

function describe(summary: string, f: FalconFailure): string {
  const parts = [`Falcon API ${f.operation}: ${summary}`];
  if (f.status !== undefined) parts.push(`HTTP ${f.status}`);
  if (f.traceId !== undefined) parts.push(`trace_id ${f.traceId}`);
  let text = parts.join(', ');
  if (f.messages !== undefined && f.messages.length > 0) text += ` — ${f.messages.join('; ')}`;
  return text;
}

/** Base class of every Falcon client error that is not the user's to fix. */
export class FalconError extends Error {
  readonly operation: string;
  readonly status: number | undefined;
  readonly traceId: string | undefined;
  readonly messages: readonly string[];

  constructor(summary: string, failure: FalconFailure, options?: ErrorOptions) {
    super(describe(summary, failure), options);
    this.name = 'FalconError';
    this.operation = failure.operation;
    this.status = failure.status;
    this.traceId = failure.traceId;
    this.messages = failure.messages ?? [];
  }
}

/** Falcon answered with an error status (after any retries). */
export class FalconApiError extends FalconError {
  constructor(summary: string, failure: FalconFailure, options?: ErrorOptions) {
    super(summary, failure, options);
    this.name = 'FalconApiError';
  }
}

/** Still rate-limited (429) after the allowed number of waits, or asked to wait longer than allowed. */
export class FalconRateLimitError extends FalconApiError {
  constructor(summary: string, failure: FalconFailure, options?: ErrorOptions) {
    super(summary, failure, options);
    this.name = 'FalconRateLimitError';
  }
}

/** No answer within the per-request timeout (after any retries). */
export class FalconTimeoutError extends FalconError {
  constructor(summary: string, failure: FalconFailure, options?: ErrorOptions) {
    super(summary, failure, options);
    this.name = 'FalconTimeoutError';
  }
}

/** The connection failed (DNS, refused, reset, TLS) after any retries. */
export class FalconNetworkError extends FalconError {
  constructor(summary: string, failure: FalconFailure, options?: ErrorOptions) {
    super(summary, failure, options);
    this.name = 'FalconNetworkError';
  }
}

/** Falcon kept answering "failed to validate registry credential" for longer than allowed. */
export class FalconCredentialValidationError extends FalconApiError {
  constructor(summary: string, failure: FalconFailure, options?: ErrorOptions) {
    super(summary, failure, options);
    this.name = 'FalconCredentialValidationError';
  }
}

/**
 * Falcon rejected the API client (wrong ID/secret, revoked client, missing scope). The user fixes
 * this, so it is a UserInputError (CLI exit code 2). The message never contains the secret.
 */
export class FalconAuthError extends UserInputError {
  readonly operation: string;
  readonly status: number | undefined;
  readonly traceId: string | undefined;
  readonly messages: readonly string[];

  constructor(summary: string, failure: FalconFailure, options?: ErrorOptions) {
    super(describe(summary, failure), options);
    this.name = 'FalconAuthError';
    this.operation = failure.operation;
    this.status = failure.status;
    this.traceId = failure.traceId;
    this.messages = failure.messages ?? [];
  }
}

/** The client was configured wrongly (no cloud or base URL, malformed base URL, empty credentials). */
export class FalconClientConfigError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FalconClientConfigError';
  }
}

/**
 * `/oauth2/token` refused the API client (HTTP 400, 401 or 403): a wrong or revoked client ID or
 * secret, a wrong member CID, or a client of another Falcon cloud. Never a missing scope: Falcon
 * issues a token whatever the client's scopes and refuses the API calls instead (see FalconScopeError).
 */
export class FalconCredentialsRejectedError extends FalconAuthError {
  constructor(summary: string, failure: FalconFailure, options?: ErrorOptions) {
    super(summary, failure, options);
    this.name = 'FalconCredentialsRejectedError';
  }
}

/** An API call was answered 403 with a valid token: the API client lacks the scope the endpoint needs. */
export class FalconScopeError extends FalconAuthError {
  /** The scope the endpoint needs (e.g. "Hosts: Read"), when known. */
  readonly scope: string | undefined;

  constructor(summary: string, failure: FalconFailure, scope?: string, options?: ErrorOptions) {
    super(summary, failure, options);
    this.name = 'FalconScopeError';
    this.scope = scope;
  }
}

/**
 * A Falcon API client's credentials could not be read: a variable not set, a secret that is not the
 * expected JSON or lacks a key. The message names the variable, secret or key and the fix, never a value.
 */
export class FalconCredentialsError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FalconCredentialsError';
  }
}
