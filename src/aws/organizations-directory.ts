import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  type Account,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { DirectoryAccount, OrganizationDirectory } from './organization-scope.js';

/**
 * `OrganizationDirectory` over AWS Organizations (management or delegated-admin account). Give the
 * client generous retries (e.g. `maxAttempts: 10`): Organizations throttles at a few calls per second.
 */
export class OrganizationsDirectory implements OrganizationDirectory {
  private readonly names = new Map<string, string>();

  constructor(private readonly client: OrganizationsClient) {}

  ouName(ouId: string): string | undefined {
    return this.names.get(ouId);
  }

  async listAccounts(parentId: string): Promise<DirectoryAccount[]> {
    const accounts: DirectoryAccount[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListAccountsForParentCommand({ ParentId: parentId, NextToken: nextToken }),
      );
      for (const a of page.Accounts ?? []) if (a.Id) accounts.push(toAccount(a, a.Id));
      nextToken = page.NextToken;
    } while (nextToken);
    return accounts;
  }

  async managementAccountId(): Promise<string> {
    const out = await this.client.send(new DescribeOrganizationCommand({}));
    const id = out.Organization?.MasterAccountId;
    if (id === undefined || id === '') throw new Error('DescribeOrganization named no management account');
    return id;
  }

  async describeAccount(accountId: string): Promise<DirectoryAccount | undefined> {
    const out = await this.client.send(new DescribeAccountCommand({ AccountId: accountId }));
    return out.Account?.Id ? toAccount(out.Account, out.Account.Id) : undefined;
  }

  async listChildOus(parentId: string): Promise<string[]> {
    const ous: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: nextToken }),
      );
      for (const ou of page.OrganizationalUnits ?? []) {
        if (!ou.Id) continue;
        ous.push(ou.Id);
        if (ou.Name) this.names.set(ou.Id, ou.Name);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return ous;
  }
}

/**
 * Organizations is replacing the account `Status` field by `State` (which adds CLOSED and
 * PENDING_ACTIVATION): read `State` when present, else `Status`, else treat the account as unknown
 * (never as active).
 */
function toAccount(a: Account, id: string): DirectoryAccount {
  return { id, ...(a.Name ? { name: a.Name } : {}), state: a.State ?? a.Status ?? 'UNKNOWN' };
}
