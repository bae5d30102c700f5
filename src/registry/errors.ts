import { UserInputError } from '../config/errors.js';

/** One entry of a registry's `{"errors": [...]}` response body. */
export interface RegistryErrorCode {
  readonly code: string;
  readonly message?: string;
}

/** Base class for every failure talking to a registry. */
export class RegistryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** Facts about a failed HTTP exchange; the URL never carries credentials. */
export interface HttpFailure {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly codes: readonly RegistryErrorCode[];
}

function describe(f: HttpFailure): string {
  const codes = f.codes.map((c) => (c.message ? `${c.code}: ${c.message}` : c.code)).join('; ');
  return `${f.method} ${f.url}: HTTP ${f.status}${codes ? ` (${codes})` : ''}`;
}

/** The registry answered with an unexpected status (after retries, where the status was retryable). */
export class RegistryHttpError extends RegistryError implements HttpFailure {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly codes: readonly RegistryErrorCode[];

  constructor(failure: HttpFailure, options?: ErrorOptions) {
    super(describe(failure), options);
    this.name = 'RegistryHttpError';
    this.method = failure.method;
    this.url = failure.url;
    this.status = failure.status;
    this.codes = failure.codes;
  }
}

/** The registry or its token service refused our credentials (or we have none): the user can fix this. */
export class RegistryAuthError extends UserInputError implements HttpFailure {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly codes: readonly RegistryErrorCode[];

  constructor(failure: HttpFailure, hint: string, options?: ErrorOptions) {
    super(`${describe(failure)}: ${hint}`, options);
    this.name = 'RegistryAuthError';
    this.method = failure.method;
    this.url = failure.url;
    this.status = failure.status;
    this.codes = failure.codes;
  }
}

/** The request never got an answer (connection refused, reset, timeout) after all retries. */
export class RegistryNetworkError extends RegistryError {
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`${method} ${url}: no response${reason}`, options);
    this.name = 'RegistryNetworkError';
    this.method = method;
    this.url = url;
  }
}

/** Content did not hash to the digest it was fetched or announced by. */
export class DigestMismatchError extends RegistryError {
  constructor(what: string, expected: string, actual: string) {
    super(`${what}: expected digest ${expected}, content hashes to ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

/** A manifest the registry returned could not be understood. */
export class ManifestFormatError extends RegistryError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ManifestFormatError';
  }
}

/** A `<registry>` argument (CLI) that is not one of the accepted forms. */
export class RegistryArgumentError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegistryArgumentError';
  }
}
