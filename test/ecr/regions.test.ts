import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountRegionDirectory, regionDirectoryFor } from '../../src/ecr/regions.js';

describe('region discovery', () => {
  const account = mockClient(AccountClient);
  afterEach(() => account.reset());

  it('lists enabled regions over every page, asking only for enabled ones', async () => {
    account
      .on(ListRegionsCommand, { NextToken: undefined })
      .resolves({ Regions: [{ RegionName: 'us-east-1' }, { RegionName: 'eu-west-1' }], NextToken: 't2' })
      .on(ListRegionsCommand, { NextToken: 't2' })
      .resolves({ Regions: [{ RegionName: 'ap-east-1' }] });

    const regions = await new AccountRegionDirectory(new AccountClient({ region: 'us-east-1' })).list();

    expect(regions).toEqual(['ap-east-1', 'eu-west-1', 'us-east-1']);
    expect(account.commandCalls(ListRegionsCommand)[0]?.args[0].input.RegionOptStatusContains).toEqual([
      'ENABLED',
      'ENABLED_BY_DEFAULT',
    ]);
  });

  it('uses the fixed GovCloud list without calling the Account API', async () => {
    let created = 0;
    const directory = regionDirectoryFor('aws-us-gov', () => {
      created += 1;
      return new AccountClient({ region: 'us-gov-west-1' });
    });
    await expect(directory.list()).resolves.toEqual(['us-gov-east-1', 'us-gov-west-1']);
    expect(created).toBe(0);
  });
});
