import { describe, expect, it } from 'vitest';
import { MissingCredentialsError, UnusableCredentialsError } from '../../src/deploy/errors.js';
import { createScrubber, rootParameters } from '../../src/deploy/secrets.js';
import { testConfig } from './helpers.js';

describe('rootParameters', () => {
  it('turns FALCON_CLIENT_ID / FALCON_CLIENT_SECRET into the root NoEcho parameters', () => {
    const out = rootParameters(testConfig(), {
      FALCON_CLIENT_ID: 'id-marker',
      FALCON_CLIENT_SECRET: 'secret-marker',
    });
    expect(out.parameters).toEqual({ FalconClientId: 'id-marker', FalconClientSecret: 'secret-marker' });
    expect(out.secrets).toEqual(['id-marker', 'secret-marker']);
  });

  it('names every missing variable', () => {
    expect(() => rootParameters(testConfig(), { FALCON_CLIENT_SECRET: 'x' })).toThrow(
      /FALCON_CLIENT_ID is not set/,
    );
    try {
      rootParameters(testConfig(), { FALCON_CLIENT_ID: '  ' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MissingCredentialsError);
      expect((error as MissingCredentialsError).variables).toEqual([
        'FALCON_CLIENT_ID',
        'FALCON_CLIENT_SECRET',
      ]);
    }
  });

  it('reads nothing when the credentials come from Secrets Manager', () => {
    const config = testConfig().falcon;
    expect(config.credentials.source).toBe('environment');
    const sm = {
      ...testConfig(),
      falcon: {
        ...config,
        credentials: {
          source: 'secretsManager' as const,
          secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:falcon-AbCdEf',
        },
      },
    };
    expect(rootParameters(sm, {})).toEqual({ parameters: {}, secrets: [] });
  });
});

describe('createScrubber', () => {
  it('removes secret values, also URL- and JSON-escaped', () => {
    const scrub = createScrubber(['s3cr3t/+"x', 'abcd1234']);
    const text = 'a s3cr3t/+"x b s3cr3t%2F%2B%22x c s3cr3t/+\\"x d abcd1234';
    const out = scrub(text);
    expect(out).toBe('a *** b *** c *** d ***');
  });

  it('leaves text alone without secrets', () => {
    expect(createScrubber([])('hello')).toBe('hello');
  });
});

describe('rootParameters with unusable values', () => {
  it('refuses quotes and control characters without showing the value', () => {
    const bad = 'abc"def\u0001-MARKER';
    try {
      rootParameters(testConfig(), { FALCON_CLIENT_ID: 'goodid123', FALCON_CLIENT_SECRET: bad });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UnusableCredentialsError);
      expect((error as Error).message).toMatch(/^FALCON_CLIENT_SECRET contains quotes/);
      expect((error as Error).message).not.toContain('MARKER');
    }
  });
});
