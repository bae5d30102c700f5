/**
 * The regions to visit in one member account: the configured list as is, or every region enabled
 * there (account:ListRegions, which the member role has only when discovery sweeps enabled regions).
 * A configured opt-in region the account has not enabled is recognised by the answer of the first
 * call there (`isRegionNotEnabledError`) and reported as not enabled, not as a broken account.
 * The one ListRegions paging loop and the one fixed-list directory of the project live here; ECR's
 * in-account region directory (src/ecr/regions.ts) is built from them.
 */
import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import type { CredentialProvider } from './account-credentials.js';
import { createClient } from './clients.js';

/** Lists the regions enabled in the account the credentials belong to. */
export interface EnabledRegions {
  list(accountId: string, credentials: CredentialProvider): Promise<string[]>;
}

/**
 * The configured regions as they are, or the account's enabled regions sorted. A configured region the
 * account has not enabled is not filtered out here: its first call answers `isRegionNotEnabledError`.
 */
export async function regionsForAccount(
  accountId: string,
  configured: readonly string[] | 'enabled',
  enabled: EnabledRegions,
  credentials: CredentialProvider,
): Promise<string[]> {
  if (configured !== 'enabled') return [...configured];
  return [...new Set(await enabled.list(accountId, credentials))].sort();
}

/**
 * What AWS answers in a region the account has not enabled: the session token is not valid there
 * (UnrecognizedClientException from JSON APIs such as EKS, InvalidClientTokenId / AuthFailure from
 * query APIs).
 */
export function isRegionNotEnabledError(error: unknown): boolean {
  const name = error instanceof Error ? error.name : '';
  return name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId' || name === 'AuthFailure';
}

/**
 * account:ListRegions under the member's own credentials (no AccountId: the caller's account), every
 * page. `clientFor` lets callers share one client per account; the Account API is global. The default
 * client has the SDK's standard retry (3 attempts, throttling included), so one throttled call does not
 * lose the account's regions; callers that retry throttling themselves pass a one-attempt client.
 */
export class AccountApiEnabledRegions implements EnabledRegions {
  constructor(
    private readonly clientFor: (accountId: string, credentials: CredentialProvider) => AccountClient = (
      _accountId,
      credentials,
    ) => createClient(AccountClient, { region: 'us-east-1', credentials, maxAttempts: 3 }),
  ) {}

  list(accountId: string, credentials: CredentialProvider): Promise<string[]> {
    return listEnabledRegions(this.clientFor(accountId, credentials));
  }
}

/** account:ListRegions of the client's own account (no AccountId), every page, each region once. */
export async function listEnabledRegions(client: AccountClient): Promise<string[]> {
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

/**
 * A fixed list, for GovCloud (US) where every region is enabled by default and the opt-in API is not the
 * way to learn them, and for tests. It serves as both an `EnabledRegions` and ECR's `RegionDirectory`.
 */
export class StaticEnabledRegions implements EnabledRegions {
  constructor(private readonly regions: readonly string[]) {}

  list(): Promise<string[]> {
    return Promise.resolve([...this.regions]);
  }
}
