/** Base class for errors of the organization-scope and cross-account-credential area. */
export class AwsScopeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsScopeError';
  }
}

/** Assuming the member role of one account failed (denied, missing role, throttled past retries). */
export class AssumeRoleError extends AwsScopeError {
  constructor(
    readonly accountId: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AssumeRoleError';
  }
}
