import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { describe, expect, it } from 'vitest';
import { CatalogInputError } from '../../src/catalog/errors.js';
import { describeStoreLocation, resolveStoreLocation } from '../../src/catalog/store/open.js';

describe('catalog store location', () => {
  it('defaults to catalog.sqlite in the user data directory of falcon-org', () => {
    expect(resolveStoreLocation(undefined, {})).toEqual({
      kind: 'sqlite',
      file: join(envPaths('falcon-org', { suffix: '' }).data, 'catalog.sqlite'),
    });
  });

  it('takes --store over FALCON_ORG_STORE, and FALCON_ORG_STORE over the default', () => {
    expect(resolveStoreLocation('a.sqlite', { FALCON_ORG_STORE: 'b.sqlite' })).toEqual({
      kind: 'sqlite',
      file: resolve('a.sqlite'),
    });
    expect(resolveStoreLocation(undefined, { FALCON_ORG_STORE: 'postgres://u:p@db:5432/cat' })).toEqual({
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/cat',
    });
  });

  it('never shows the password of a PostgreSQL URL', () => {
    const location = resolveStoreLocation('postgresql://catalog:s3cret@db.internal:5432/falcon');
    expect(describeStoreLocation(location)).toBe('postgresql://catalog:***@db.internal:5432/falcon');
  });

  it('rejects URLs of other databases as a user error', () => {
    expect(() => resolveStoreLocation('mysql://db/catalog')).toThrow(CatalogInputError);
  });
});
