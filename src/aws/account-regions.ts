/**
 * The regions to visit in one member account: the configured list, or every region enabled there.
 * A configured region the account has not enabled (an opt-in region) is reported, not called: calls
 * there fail with an authentication error that would look like a broken account.
 */
import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import type { CredentialProvider } from './account-credentials.js';

/** Lists the regions enabled in the account the credentials belong to. */
export interface EnabledRegions {
  list(accountId: string, credentials: CredentialProvider): Promise<string[]>;
}

export interface AccountRegions {
  readonly regions: readonly string[];
  /** Configured regions left out because the account has not enabled them. */
  readonly notEnabled: readonly string[];
}

export async function regionsForAccount(
  accountId: string,
  configured: readonly string[] | 'enabled',
  enabled: EnabledRegions,
  credentials: CredentialProvider,
): Promise<AccountRegions> {
  const on = new Set(await enabled.list(accountId, credentials));
  if (configured === 'enabled') return { regions: [...on].sort(), notEnabled: [] };
  return {
    regions: configured.filter((r) => on.has(r)),
    notEnabled: configured.filter((r) => !on.has(r)),
  };
}

/**
 * account:ListRegions under the member's own credentials (no AccountId: the caller's account), every
 * page. `clientFor` lets callers share one client per account; the Account API is global.
 */
export class AccountApiEnabledRegions implements EnabledRegions {
  constructor(
    private readonly clientFor: (accountId: string, credentials: CredentialProvider) => AccountClient = (
      _accountId,
      credentials,
    ) => new AccountClient({ region: 'us-east-1', credentials, maxAttempts: 1 }),
  ) {}

  async list(accountId: string, credentials: CredentialProvider): Promise<string[]> {
    const client = this.clientFor(accountId, credentials);
    const regions: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListRegionsCommand({
          RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'],
          MaxResults: 50,
          NextToken: nextToken,
        }),
      );
      for (const r of page.Regions ?? []) if (r.RegionName) regions.push(r.RegionName);
      nextToken = page.NextToken;
    } while (nextToken);
    return [...new Set(regions)];
  }
}

/** A fixed list, for GovCloud (US) where every region is enabled by default, and for tests. */
export class StaticEnabledRegions implements EnabledRegions {
  constructor(private readonly regions: readonly string[]) {}

  list(): Promise<string[]> {
    return Promise.resolve([...this.regions]);
  }
}
