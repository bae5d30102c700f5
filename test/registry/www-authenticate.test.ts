import { describe, expect, it } from 'vitest';

import { parseWwwAuthenticate } from '../../src/registry/www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it('parses a bearer challenge with realm, service and scope', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'registry.example',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
  });

  it('parses several challenges, unquoted values and escapes', () => {
    expect(
      parseWwwAuthenticate('Basic realm="a \\"b\\"", Bearer realm=https://x/t, error=invalid_token'),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', error: 'invalid_token' } },
    ]);
  });

  it('returns nothing for an empty header', () => {
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});
