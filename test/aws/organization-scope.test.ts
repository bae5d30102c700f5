import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import {
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountCredentials, StsRoleAssumer } from '../../src/aws/account-credentials.js';
import { AccountApiEnabledRegions, regionsForAccount } from '../../src/aws/account-regions.js';
import { AssumeRoleError, AwsScopeError } from '../../src/aws/errors.js';
import { resolveScope } from '../../src/aws/organization-scope.js';
import { OrganizationsDirectory } from '../../src/aws/organizations-directory.js';

const orgs = mockClient(OrganizationsClient);
const sts = mockClient(STSClient);
const account = mockClient(AccountClient);
afterEach(() => {
  orgs.reset();
  sts.reset();
  account.reset();
});

/**
 * r-root
 * ├── 100000000001 (ACTIVE)
 * ├── ou-prod
 * │   ├── 200000000001 (State ACTIVE)            200000000002 (State SUSPENDED, Status ACTIVE: State wins)
 * │   └── ou-prod-eu
 * │       ├── 300000000001 (Status ACTIVE, no State)  300000000002 (excluded)
 * │       └── ou-prod-eu-deep → 400000000001 (page 2 of its parent listing)
 * └── ou-sandbox → 500000000001 (State CLOSED)
 */
function organization(): void {
  const accounts: Record<string, { Id: string; Name: string; State?: string; Status?: string }[][]> = {
    'r-root': [[{ Id: '100000000001', Name: 'management', State: 'ACTIVE', Status: 'ACTIVE' }]],
    'ou-prod': [
      [
        { Id: '200000000001', Name: 'prod-a', State: 'ACTIVE' },
        { Id: '200000000002', Name: 'prod-b', State: 'SUSPENDED', Status: 'ACTIVE' },
      ],
    ],
    'ou-prod-eu': [
      [{ Id: '300000000001', Name: 'eu-a', Status: 'ACTIVE' }],
      [{ Id: '300000000002', Name: 'eu-b', State: 'ACTIVE' }],
    ],
    'ou-prod-eu-deep': [[{ Id: '400000000001', Name: 'deep', State: 'ACTIVE' }]],
    'ou-sandbox': [[{ Id: '500000000001', Name: 'gone', State: 'CLOSED' }]],
  };
  const ous: Record<string, string[]> = {
    'r-root': ['ou-prod', 'ou-sandbox'],
    'ou-prod': ['ou-prod-eu'],
    'ou-prod-eu': ['ou-prod-eu-deep'],
  };
  orgs.on(ListAccountsForParentCommand).callsFake((input: { ParentId: string; NextToken?: string }) => {
    const pages = accounts[input.ParentId] ?? [[]];
    const index = input.NextToken ? Number(input.NextToken) : 0;
    return { Accounts: pages[index], ...(index + 1 < pages.length ? { NextToken: String(index + 1) } : {}) };
  });
  orgs.on(ListOrganizationalUnitsForParentCommand).callsFake((input: { ParentId: string }) => ({
    OrganizationalUnits: (ous[input.ParentId] ?? []).map((Id) => ({ Id })),
  }));
}

describe('organization scope', () => {
  it('follows nested OUs and every page, keeps ACTIVE accounts (State before Status) and drops exclusions', async () => {
    organization();
    const directory = new OrganizationsDirectory(new OrganizationsClient({ region: 'us-east-1' }));

    const scope = await resolveScope(directory, { targets: ['r-root'], excludeAccounts: ['300000000002'] });

    expect(scope.accounts.map((a) => a.id)).toEqual([
      '100000000001',
      '200000000001',
      '300000000001',
      '400000000001',
    ]);
    // Named and placed (the report lists an excluded management account by name and OU).
    expect(scope.skipped).toEqual([
      { id: '200000000002', name: 'prod-b', parent: 'ou-prod', reason: 'not-active', state: 'SUSPENDED' },
      { id: '300000000002', name: 'eu-b', parent: 'ou-prod-eu', reason: 'excluded' },
      { id: '500000000001', name: 'gone', parent: 'ou-sandbox', reason: 'not-active', state: 'CLOSED' },
    ]);
  });

  it('scopes to OU targets only, counting an account under two targets once', async () => {
    organization();
    const directory = new OrganizationsDirectory(new OrganizationsClient({ region: 'us-east-1' }));

    const scope = await resolveScope(directory, { targets: ['ou-prod-eu', 'ou-prod-eu-deep'] });

    expect(scope.accounts).toEqual([
      { id: '300000000001', name: 'eu-a', target: 'ou-prod-eu', parent: 'ou-prod-eu' },
      { id: '300000000002', name: 'eu-b', target: 'ou-prod-eu', parent: 'ou-prod-eu' },
      // Listed first under the nested OU it sits in directly (its parent), and counted once.
      { id: '400000000001', name: 'deep', target: 'ou-prod-eu-deep', parent: 'ou-prod-eu-deep' },
    ]);
  });

  it('names the parent it could not list', async () => {
    orgs
      .on(ListAccountsForParentCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    orgs.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [] });
    const directory = new OrganizationsDirectory(new OrganizationsClient({ region: 'us-east-1' }));

    await expect(resolveScope(directory, { targets: ['ou-x'] })).rejects.toThrow(AwsScopeError);
    await expect(resolveScope(directory, { targets: ['ou-x'] })).rejects.toThrow(
      /under ou-x: AccessDeniedException/,
    );
    await expect(resolveScope(directory, { targets: [] })).rejects.toThrow(/no targets/);
  });
});

describe('account credentials', () => {
  const expiresIn = (now: number, ms: number) => ({
    Credentials: {
      AccessKeyId: `AKIA${now}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(now + ms),
    },
  });

  it('assumes the role once per account however many regions ask at once, and again shortly before expiry', async () => {
    let now = 1_000_000;
    sts.on(AssumeRoleCommand).callsFake(() => expiresIn(now, 3_600_000));
    const creds = new AccountCredentials(new StsRoleAssumer(new STSClient({ region: 'us-east-1' })), {
      roleArn: (id) => `arn:aws:iam::${id}:role/falcon-org-eks-execution`,
      sessionName: 'falcon-org-eks-discover',
      now: () => now,
    });
    const provider = creds.provider('111111111111');

    const first = await Promise.all(Array.from({ length: 17 }, () => provider()));
    expect(new Set(first.map((c) => c.accessKeyId)).size).toBe(1);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toMatchObject({
      RoleArn: 'arn:aws:iam::111111111111:role/falcon-org-eks-execution',
      RoleSessionName: 'falcon-org-eks-discover',
    });

    now += 3_600_000 - 300_001; // still just outside the 5-minute refresh window
    await provider();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);

    now += 2; // inside the window: refresh
    const refreshed = await Promise.all([provider(), provider()]);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(refreshed[0]?.accessKeyId).not.toBe(first[0]?.accessKeyId);
    expect(creds.provider('111111111111')).toBe(provider);
  });

  it('reports a denied account as AssumeRoleError and tries again on the next call', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(
        Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }),
      )
      .resolves(expiresIn(0, Date.now() + 3_600_000));
    const creds = new AccountCredentials(new StsRoleAssumer(new STSClient({ region: 'us-east-1' })), {
      roleArn: (id) => `arn:aws:iam::${id}:role/r`,
      sessionName: 's',
    });

    const failure = await creds.get('222222222222').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AssumeRoleError);
    expect((failure as AssumeRoleError).accountId).toBe('222222222222');
    expect((failure as Error).message).toMatch(/arn:aws:iam::222222222222:role\/r: AccessDenied/);
    await expect(creds.get('222222222222')).resolves.toMatchObject({ sessionToken: 'token' });
  });
});

describe('regions per account', () => {
  it('visits every enabled region (opt-in ones included) or the configured ones the account has enabled', async () => {
    account.on(ListRegionsCommand).callsFake((input: { NextToken?: string }) =>
      input.NextToken
        ? { Regions: [{ RegionName: 'ap-east-1', RegionOptStatus: 'ENABLED' }] }
        : {
            Regions: [
              { RegionName: 'us-east-1', RegionOptStatus: 'ENABLED_BY_DEFAULT' },
              { RegionName: 'eu-west-1', RegionOptStatus: 'ENABLED_BY_DEFAULT' },
            ],
            NextToken: 'p2',
          },
    );
    const enabled = new AccountApiEnabledRegions();
    const provider = () =>
      Promise.resolve({
        accessKeyId: 'a',
        secretAccessKey: 'b',
        sessionToken: 'c',
        expiration: new Date(Date.now() + 3_600_000),
      });

    const all = await regionsForAccount('111111111111', 'enabled', enabled, provider);
    expect(all).toEqual(['ap-east-1', 'eu-west-1', 'us-east-1']);
    expect(account.commandCalls(ListRegionsCommand)[0]?.args[0].input.RegionOptStatusContains).toEqual([
      'ENABLED',
      'ENABLED_BY_DEFAULT',
    ]);

    // Configured regions need no ListRegions (the member role may not have it): used as given.
    const calls = account.commandCalls(ListRegionsCommand).length;
    const configured = await regionsForAccount(
      '111111111111',
      ['eu-west-1', 'me-central-1'],
      enabled,
      provider,
    );
    expect(configured).toEqual(['eu-west-1', 'me-central-1']);
    expect(account.commandCalls(ListRegionsCommand)).toHaveLength(calls);
  });
});
