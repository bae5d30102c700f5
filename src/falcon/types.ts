/**
 * The registry-connection operations the rest of the project needs from Falcon. The HTTP client in
 * this folder implements it; core modules (src/ecr) depend only on this interface.
 */
export interface RegistryConnection {
  readonly id: string;
  readonly type: string;
  /** As Falcon returns it; compare with normalizeRegistryUrl() from ./url.js. */
  readonly url: string;
  readonly userDefinedAlias?: string;
  readonly state?: string;
  readonly createdAt?: string;
}

export interface CreateEcrConnectionInput {
  /** https://<account>.dkr.ecr.<region>.amazonaws.com (…amazonaws.com.cn is not supported). */
  readonly url: string;
  readonly alias?: string;
  readonly roleArn: string;
  readonly externalId: string;
  /**
   * `aws_gov_using_commercial_connection`: the registry's AWS partition and the Falcon cloud are on
   * different sides (src/config/ecr-connection-kind.ts).
   */
  readonly govUsingCommercialConnection?: boolean;
  /**
   * Either side is a government cloud: the body is CrowdStrike's gov payload
   * (`all_repositories_monitored`, `credential.type`, the flag always present).
   */
  readonly govCloud?: boolean;
}

/** What a create answered: the connection, and whether Falcon made it now or it existed already. */
export interface CreatedConnection extends RegistryConnection {
  /**
   * True when Falcon did not confirm a new connection (duplicate answer, or saved despite a validation
   * error) and the client found this one by URL: it may be someone else's, so compare its alias.
   */
  readonly existed: boolean;
}

/**
 * `signal` (optional everywhere) aborts waits and requests, e.g. at a Lambda's deadline; the promise
 * then rejects with the signal's reason.
 */
export interface RegistryConnectionsApi {
  /** Every connection of the tenant (all pages, details read in batches). */
  listConnections(signal?: AbortSignal): Promise<RegistryConnection[]>;
  /** The connection whose normalized URL equals the given one's, if any. */
  findByUrl(url: string, signal?: AbortSignal): Promise<RegistryConnection | undefined>;
  /**
   * Creates an ECR connection, absorbing the real-world answers: 200/201, duplicate (200 empty or 409:
   * then looked up by URL), and "failed to validate registry credential" while IAM propagates
   * (retried for a bounded time, then looked up by URL before failing).
   */
  createEcrConnection(input: CreateEcrConnectionInput, signal?: AbortSignal): Promise<CreatedConnection>;
  /** Deletes connections by ID; an ID that no longer exists is not an error. */
  deleteConnections(ids: readonly string[], signal?: AbortSignal): Promise<void>;
}
