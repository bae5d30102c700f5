/**
 * Credentials for member accounts, assumed ONCE per account and shared by every region's clients, then
 * refreshed shortly before they expire (a long discovery or a warm Lambda outlives one session).
 *
 * Example:
 * ```ts
 * const creds = new AccountCredentials(new StsRoleAssumer(sts), {
 *   roleArn: (account) => `arn:aws:iam::${account}:role/falcon-org-eks-execution`,
 *   sessionName: 'falcon-org-eks-discover',
 * });
 * const eks = new EKSClient({ region, credentials: creds.provider(accountId) });
 * ```
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { AssumeRoleError } from './errors.js';

export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** What the cache needs from STS. */
export interface RoleAssumer {
  assume(roleArn: string, sessionName: string): Promise<TemporaryCredentials>;
}

/** Provider shape every SDK v3 client accepts as `credentials`. */
export type CredentialProvider = () => Promise<TemporaryCredentials>;

export interface AccountCredentialsOptions {
  readonly roleArn: (accountId: string) => string;
  /** Shows in the member account's CloudTrail. */
  readonly sessionName: string;
  /** Refresh this long before expiry. @default 300_000 (5 minutes, as the SDK itself does) */
  readonly refreshBeforeMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export class AccountCredentials {
  private readonly cache = new Map<string, Promise<TemporaryCredentials>>();
  private readonly providers = new Map<string, CredentialProvider>();
  private readonly refreshBeforeMs: number;
  private readonly now: () => number;
  private assumeCount = 0;

  constructor(
    private readonly assumer: RoleAssumer,
    private readonly options: AccountCredentialsOptions,
  ) {
    this.refreshBeforeMs = options.refreshBeforeMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /** How many AssumeRole calls were made (for reports and tests). */
  get assumed(): number {
    return this.assumeCount;
  }

  /** The account's credentials: cached, shared by concurrent callers, refreshed before expiry. */
  async get(accountId: string): Promise<TemporaryCredentials> {
    const cached = this.cache.get(accountId);
    if (cached) {
      const creds = await cached.catch(() => undefined);
      if (creds && creds.expiration.getTime() - this.refreshBeforeMs > this.now()) return creds;
      // Expired, about to expire or failed: the first caller to get here replaces the entry.
      if (this.cache.get(accountId) !== cached) return this.get(accountId);
    }
    const pending = this.assume(accountId);
    this.cache.set(accountId, pending);
    try {
      return await pending;
    } catch (error) {
      if (this.cache.get(accountId) === pending) this.cache.delete(accountId); // a later call retries
      throw error;
    }
  }

  /** A provider for SDK clients of this account (one per account, whatever the region). */
  provider(accountId: string): CredentialProvider {
    let provider = this.providers.get(accountId);
    if (!provider) {
      provider = () => this.get(accountId);
      this.providers.set(accountId, provider);
    }
    return provider;
  }

  private async assume(accountId: string): Promise<TemporaryCredentials> {
    const roleArn = this.options.roleArn(accountId);
    this.assumeCount += 1;
    try {
      return await this.assumer.assume(roleArn, this.options.sessionName);
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new AssumeRoleError(accountId, `could not assume ${roleArn}: ${detail}`, { cause: error });
    }
  }
}

/** `RoleAssumer` over STS (use the regional endpoint of the home region). */
export class StsRoleAssumer implements RoleAssumer {
  constructor(
    private readonly sts: STSClient,
    private readonly durationSeconds = 3600,
  ) {}

  async assume(roleArn: string, sessionName: string): Promise<TemporaryCredentials> {
    const out = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        DurationSeconds: this.durationSeconds,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error('AssumeRole answered without complete credentials');
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  }
}
