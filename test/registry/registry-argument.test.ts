import { describe, expect, it } from 'vitest';

import { UserInputError } from '../../src/config/errors.js';
import { EcrClients } from '../../src/registry/ecr-clients.js';
import { EcrRegistrySource } from '../../src/registry/ecr-source.js';
import { OciRegistrySource } from '../../src/registry/oci-source.js';
import { parseRegistryArgument, registryCredentialsFromEnv } from '../../src/registry/registry-argument.js';
import { createRegistrySource } from '../../src/registry/registry-source.js';

describe('parseRegistryArgument', () => {
  it.each([
    ['http://127.0.0.1:5000', { kind: 'oci', url: 'http://127.0.0.1:5000' }],
    ['https://registry.example.com/', { kind: 'oci', url: 'https://registry.example.com' }],
    ['https://registry.example.com:8443/v2/', { kind: 'oci', url: 'https://registry.example.com:8443' }],
    ['ecr://123456789012/eu-west-1', { kind: 'ecr', accountId: '123456789012', region: 'eu-west-1' }],
    [
      'ecr://123456789012/us-gov-west-1/',
      { kind: 'ecr', accountId: '123456789012', region: 'us-gov-west-1' },
    ],
  ])('accepts %s', (argument, expected) => {
    expect(parseRegistryArgument(argument)).toEqual(expected);
  });

  it.each([
    ['registry.example.com', 'not a URL'],
    ['ftp://registry.example.com', 'scheme ftp: is not supported'],
    ['https://registry.example.com/some/path', 'no path'],
    ['ecr://12345/eu-west-1', 'not a 12-digit account id'],
    ['ecr://123456789012/europe', 'not an AWS region'],
    ['ecr://123456789012', 'an ECR registry is written'],
  ])('rejects %s naming the argument and the accepted forms', (argument, why) => {
    let error: unknown;
    try {
      parseRegistryArgument(argument);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserInputError);
    const message = (error as Error).message;
    expect(message).toContain(`registry "${argument}"`);
    expect(message).toContain(why);
    expect(message).toContain('http(s)://host[:port]');
    expect(message).toContain('ecr://<12-digit account>/<region>');
  });

  it('refuses credentials in the URL without echoing them', () => {
    expect(() => parseRegistryArgument('https://me:hunter2@registry.example.com')).toThrow(
      /FALCON_ORG_REGISTRY_USERNAME/,
    );
    expect(() => parseRegistryArgument('https://me:hunter2@registry.example.com')).not.toThrow(/hunter2/);
  });
});

describe('createRegistrySource', () => {
  it('builds an OCI or an ECR source from the argument', () => {
    const oci = createRegistrySource('http://127.0.0.1:5000', { oci: { pageSize: 10 } });
    expect(oci).toBeInstanceOf(OciRegistrySource);
    expect(oci.registry).toBe('http://127.0.0.1:5000');
    const ecr = createRegistrySource('ecr://123456789012/eu-west-1', { ecrClients: new EcrClients() });
    expect(ecr).toBeInstanceOf(EcrRegistrySource);
    expect(ecr.registry).toBe('ecr://123456789012/eu-west-1');
  });

  it('reads registry credentials from the environment only when both are set', () => {
    expect(
      registryCredentialsFromEnv({ FALCON_ORG_REGISTRY_USERNAME: 'u', FALCON_ORG_REGISTRY_PASSWORD: 'p' }),
    ).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(registryCredentialsFromEnv({ FALCON_ORG_REGISTRY_USERNAME: 'u' })).toBeUndefined();
  });
});
