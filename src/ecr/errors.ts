import { UserInputError } from '../config/errors.js';

/** Base class for errors of the ECR registry-connection area. */
export class EcrError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EcrError';
  }
}

/**
 * A secret the deployment provides (Falcon API credentials, external ID) is missing or malformed. The
 * message names the secret and what is wrong with it, never its value.
 */
export class SecretFormatError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretFormatError';
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

/** Short, single-line description of an error for reasons and logs (never includes secrets we hold). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const text = error.message.split('\n')[0] ?? error.name;
    return text.length > 300 ? `${text.slice(0, 297)}...` : text;
  }
  return String(error);
}
