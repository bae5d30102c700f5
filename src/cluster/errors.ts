import { UserInputError } from '../config/errors.js';

/** Base class for errors of the EKS deployer. */
export class ClusterError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClusterError';
  }
}

/** The run's environment or settings are missing or malformed (the message names the field). */
export class DeployerSettingsError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeployerSettingsError';
  }
}

/** A wait ran past its deadline; carries the last state seen. */
export class DeadlineError extends ClusterError {
  constructor(
    readonly what: string,
    readonly deadlineSeconds: number,
    readonly lastSeen: string,
    options?: ErrorOptions,
  ) {
    super(`${what}: not done after ${deadlineSeconds} s (last seen: ${lastSeen})`, options);
    this.name = 'DeadlineError';
  }
}

/** The cluster does not exist (any more), or is being deleted or failed. */
export class ClusterGoneError extends ClusterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClusterGoneError';
  }
}

/** The deployer cannot reach the cluster's API endpoint; `reason` says why and what to do. */
export class NotReachableError extends ClusterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotReachableError';
  }
}

/** A Fargate-only cluster has no Fargate profile for the Falcon namespaces (nothing was applied). */
export class FargateProfileMissingError extends ClusterError {
  constructor(
    readonly namespaces: readonly string[],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FargateProfileMissingError';
  }
}

/** The operator manifest does not match its pinned checksum or cannot be read. */
export class ManifestError extends ClusterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ManifestError';
  }
}

/** The Kubernetes API answered with an error status (never carries the bearer token). */
export class KubeApiError extends ClusterError {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`Kubernetes ${operation}: HTTP ${status}${detail ? ` — ${detail}` : ''}`, options);
    this.name = 'KubeApiError';
  }
}

/** The Kubernetes API could not be reached (connection refused or reset, timeout) after retries. */
export class KubeConnectionError extends ClusterError {
  constructor(
    readonly operation: string,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause;
    const detail =
      cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
    super(`Kubernetes ${operation}: no answer after ${attempts} attempts (${detail})`, options);
    this.name = 'KubeConnectionError';
  }
}
