import { describe, expect, it } from 'vitest';
import type { OrganizationDirectory } from '../../src/aws/organization-scope.js';
import { ScopeCache } from '../../src/aws/scope-cache.js';

describe('ScopeCache', () => {
  it('asks Organizations once per TTL, sees changes after it, and never caches a failure', async () => {
    let now = 0;
    let listings = 0;
    let members = ['111111111111'];
    let failNext = false;
    const directory: OrganizationDirectory = {
      listAccounts: () => {
        listings += 1;
        if (failNext) {
          failNext = false;
          return Promise.reject(
            Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }),
          );
        }
        return Promise.resolve(members.map((id) => ({ id, state: 'ACTIVE' })));
      },
      listChildOus: () => Promise.resolve([]),
    };
    const cache = new ScopeCache(directory, { targets: ['r-abcd'] }, 60_000, () => now);

    expect(await Promise.all([cache.has('111111111111'), cache.has('222222222222')])).toEqual([true, false]);
    expect(listings).toBe(1);

    members = ['111111111111', '222222222222'];
    now = 59_999;
    expect(await cache.has('222222222222')).toBe(false);
    now = 60_000;
    failNext = true;
    await expect(cache.has('222222222222')).rejects.toThrow(/TooManyRequestsException/);
    expect(await cache.has('222222222222')).toBe(true);
    expect(listings).toBe(3);
  });
});
