import { ListRegionsCommand, type AccountClient } from '@aws-sdk/client-account';
import { PARTITIONS, type PartitionName } from '../config/partitions.js';

/** The regions enabled for the account the code runs in. */
export interface RegionDirectory {
  listEnabledRegions(): Promise<string[]>;
}

/**
 * Asks the Account Management API (account:ListRegions, no AccountId = the caller's own account) which
 * regions are enabled, following every page. Chosen over EC2 DescribeRegions because the Account client
 * is a fraction of the EC2 client's size in the Lambda bundle.
 */
export class AccountRegionDirectory implements RegionDirectory {
  constructor(private readonly account: AccountClient) {}

  async listEnabledRegions(): Promise<string[]> {
    const regions: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.account.send(
        new ListRegionsCommand({
          RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'],
          MaxResults: 50,
          NextToken: nextToken,
        }),
      );
      for (const r of page.Regions ?? []) if (r.RegionName) regions.push(r.RegionName);
      nextToken = page.NextToken;
    } while (nextToken);
    return [...new Set(regions)].sort();
  }
}

/**
 * A fixed list: GovCloud (US), where every region is enabled by default and the opt-in API is not the
 * way to learn them, and tests.
 */
export class StaticRegionDirectory implements RegionDirectory {
  constructor(private readonly regions: readonly string[]) {}

  listEnabledRegions(): Promise<string[]> {
    return Promise.resolve([...this.regions]);
  }
}

/** The directory to use in a partition: the opt-in API in commercial AWS, the known list in GovCloud. */
export function regionDirectoryFor(partition: PartitionName, account: () => AccountClient): RegionDirectory {
  return partition === 'aws-us-gov'
    ? new StaticRegionDirectory(PARTITIONS['aws-us-gov'].regions)
    : new AccountRegionDirectory(account());
}
