import type { AccountClient } from '@aws-sdk/client-account';
import { listEnabledRegions, StaticEnabledRegions } from '../aws/account-regions.js';
import { PARTITIONS, type PartitionName } from '../config/partitions.js';

/** The regions enabled for the account the code runs in. */
export interface RegionDirectory {
  list(): Promise<string[]>;
}

/**
 * Asks the Account Management API (account:ListRegions, no AccountId = the caller's own account) which
 * regions are enabled, following every page. Chosen over EC2 DescribeRegions because the Account client
 * is a fraction of the EC2 client's size in the Lambda bundle.
 */
export class AccountRegionDirectory implements RegionDirectory {
  constructor(private readonly account: AccountClient) {}

  async list(): Promise<string[]> {
    return (await listEnabledRegions(this.account)).sort();
  }
}

/** The directory to use in a partition: the opt-in API in commercial AWS, the known list in GovCloud. */
export function regionDirectoryFor(partition: PartitionName, account: () => AccountClient): RegionDirectory {
  return partition === 'aws-us-gov'
    ? new StaticEnabledRegions(PARTITIONS['aws-us-gov'].regions)
    : new AccountRegionDirectory(account());
}
