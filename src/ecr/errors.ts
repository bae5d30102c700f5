import { UserInputError } from '../config/errors.js';
import {
  FalconApiError,
  FalconAuthError,
  FalconNetworkError,
  FalconRateLimitError,
  FalconTimeoutError,
} from '../falcon/errors.js';

/** Base class for errors of the ECR registry-connection area. */
export class EcrError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EcrError';
  }
}

/** The custom resource's properties or the handler's environment are not usable. */
export class EcrSettingsError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EcrSettingsError';
  }
}

/** The ownership record cannot be read, parsed or written, or belongs to another deployment. */
export class OwnershipRecordError extends EcrError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OwnershipRecordError';
  }
}

/** Something every region depends on failed (region discovery, listing Falcon's connections). */
export class ReconcileSetupError extends EcrError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReconcileSetupError';
  }
}

/** The error and its causes, outermost first (bounded, in case of a cycle). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && chain.length < 8) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/**
 * Falcon cannot be reached (network, timeouts) or refuses the API client (401/403: revoked client, wrong
 * secret, missing scope). On Delete this must not block the stack's teardown.
 */
export function isFalconUnreachable(error: unknown): boolean {
  return causes(error).some(
    (e) =>
      e instanceof FalconAuthError ||
      e instanceof FalconNetworkError ||
      e instanceof FalconTimeoutError ||
      (e instanceof FalconApiError && (e.status === 401 || e.status === 403)),
  );
}

/** Falcon kept answering 429 beyond the run's allowance: the region is deferred, not failed. */
export function isFalconBudgetExhausted(error: unknown): boolean {
  return causes(error).some((e) => e instanceof FalconRateLimitError);
}
