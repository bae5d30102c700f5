import { UserInputError } from '../config/errors.js';
import { capText, describeError } from '../shared/describe-error.js';

/** Base class of every error the catalog raises that is not the user's to fix. */
export class CatalogError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CatalogError';
  }
}

/** The registry could not be listed at all, so nothing was compared or committed. */
export class RegistryScanError extends CatalogError {
  constructor(registry: string, options?: ErrorOptions) {
    super(`could not list the repositories of ${registry}; the stored catalog is unchanged`, options);
    this.name = 'RegistryScanError';
  }
}

/** The store could not be opened, read or written. Never carries a connection password. */
export class CatalogStoreError extends CatalogError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CatalogStoreError';
  }
}

/** A catalog setting given by the user is not valid (bad glob, concurrency, store location, …). */
export class CatalogInputError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CatalogInputError';
  }
}

/** Another scan of the same registry committed while this one ran; nothing of this run was kept. */
export class ConcurrentScanError extends CatalogError {
  constructor(registry: string, options?: ErrorOptions) {
    super(
      `another scan of ${registry} finished first; nothing of this scan was committed, run it again`,
      options,
    );
    this.name = 'ConcurrentScanError';
  }
}

/** Some repositories could not be scanned; the rest of the scan was committed. */
export class PartialScanError extends CatalogError {
  constructor(readonly repositories: readonly string[]) {
    super(
      `${repositories.length} of the repositories could not be scanned (${repositories.slice(0, 5).join(', ')}${repositories.length > 5 ? ', …' : ''}); the rest of the scan was committed and their previous entries were kept`,
    );
    this.name = 'PartialScanError';
  }
}

/** A batch of events could not be applied (the registry could not be asked, or kept changing); nothing of it was kept. */
/**
 * An image the registry has but whose content cannot be read (a manifest that is not one, bytes that
 * do not hash to their digest). RegistryProbe adapters translate their own errors into this one, so
 * the catalog records the image as unreadable instead of failing the batch.
 */
export class UnreadableImageError extends CatalogError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnreadableImageError';
  }
}

export class EventApplyError extends CatalogError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventApplyError';
  }
}

/**
 * One log line for a failure of the long-running catalog commands: the project's describeError of
 * the error and of its first cause (the store's and the engine's errors wrap the driver's or the
 * registry's, which says what actually failed: `… could not read the catalog …: connection refused`).
 */
export function describeWithCause(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? `: ${describeError(error.cause)}` : '';
  return capText(`${describeError(error)}${cause}`);
}
