import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';

import { scanRegistry } from '../../src/catalog/scan.js';
import { EcrClients, roleArnFor, type EcrCredentials } from '../../src/registry/ecr-clients.js';
import { EcrRegistrySource } from '../../src/registry/ecr-source.js';
import { RegistryError } from '../../src/registry/errors.js';
import { memoryStore } from '../catalog/helpers.js';

const ecr = mockClient(ECRClient);
afterEach(() => ecr.reset());

const ACCOUNT = '123456789012';
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('EcrRegistrySource', () => {
  it('lists every repository across DescribeRepositories pages, in the named account', async () => {
    ecr
      .on(DescribeRepositoriesCommand, { nextToken: undefined })
      .resolves({ repositories: [{ repositoryName: 'a' }, { repositoryName: 'b' }], nextToken: 'p2' })
      .on(DescribeRepositoriesCommand, { nextToken: 'p2' })
      .resolves({ repositories: [{ repositoryName: 'c' }] });
    const source = new EcrRegistrySource({
      accountId: ACCOUNT,
      region: 'eu-west-1',
      clients: new EcrClients(),
    });
    expect(source.registry).toBe(`ecr://${ACCOUNT}/eu-west-1`);
    expect(await source.listRepositories()).toEqual(['a', 'b', 'c']);
    const calls = ecr.commandCalls(DescribeRepositoriesCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { registryId: ACCOUNT, maxResults: 1000, nextToken: undefined },
      { registryId: ACCOUNT, maxResults: 1000, nextToken: 'p2' },
    ]);
  });

  it('lists tagged images across DescribeImages pages with media type, push time and size', async () => {
    const pushedAt = new Date('2026-03-04T05:06:07Z');
    ecr
      .on(DescribeImagesCommand, { nextToken: undefined })
      .resolves({
        imageDetails: [
          {
            imageDigest: digest(1),
            imageTags: ['latest', '1.0'],
            imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
            imagePushedAt: pushedAt,
            imageSizeInBytes: 1234,
          },
          { imageDigest: digest(2), imageTags: [] }, // untagged: skipped
        ],
        nextToken: 'next',
      })
      .on(DescribeImagesCommand, { nextToken: 'next' })
      .resolves({ imageDetails: [{ imageDigest: digest(3), imageTags: ['0.9'] }] });
    const source = new EcrRegistrySource({
      accountId: ACCOUNT,
      region: 'us-east-1',
      clients: new EcrClients(),
    });
    expect(await source.listImages('team/app')).toEqual([
      {
        digest: digest(1),
        tags: ['1.0', 'latest'],
        mediaType: 'application/vnd.oci.image.index.v1+json',
        pushedAt: '2026-03-04T05:06:07.000Z',
        sizeBytes: 1234,
      },
      { digest: digest(3), tags: ['0.9'] },
    ]);
    const inputs = ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      {
        registryId: ACCOUNT,
        repositoryName: 'team/app',
        filter: { tagStatus: 'TAGGED' },
        maxResults: 1000,
        nextToken: undefined,
      },
      {
        registryId: ACCOUNT,
        repositoryName: 'team/app',
        filter: { tagStatus: 'TAGGED' },
        maxResults: 1000,
        nextToken: 'next',
      },
    ]);
  });

  it('treats a repository deleted mid-scan as empty and wraps other failures with the registry', async () => {
    const gone = Object.assign(new Error('not found'), { name: 'RepositoryNotFoundException' });
    ecr.on(DescribeImagesCommand, { repositoryName: 'gone' }).rejects(gone);
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    ecr.on(DescribeImagesCommand, { repositoryName: 'secret' }).rejects(denied);
    const source = new EcrRegistrySource({
      accountId: ACCOUNT,
      region: 'us-east-1',
      clients: new EcrClients(),
    });
    expect(await source.listImages('gone')).toEqual([]);
    const error = await source.listImages('secret').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toBe(
      `ecr://${ACCOUNT}/us-east-1: DescribeImages(secret) failed: AccessDeniedException: not authorized`,
    );
  });
});

describe('catalog scans of an ECR registry (faked ECR client)', () => {
  it('catalogs every page, dedupes a digest in two repositories and reports a moved tag', async () => {
    const images: Record<string, { imageDigest: string; imageTags: string[] }[][]> = {
      // two DescribeImages pages for app, one for mirror (the same image as app's 1.0)
      app: [
        [{ imageDigest: digest(1), imageTags: ['1.0', 'latest'] }],
        [{ imageDigest: digest(2), imageTags: ['0.9'] }],
      ],
      mirror: [[{ imageDigest: digest(1), imageTags: ['upstream'] }]],
    };
    const fake = (): void => {
      ecr.reset();
      ecr
        .on(DescribeRepositoriesCommand, { nextToken: undefined })
        .resolves({ repositories: [{ repositoryName: 'app' }], nextToken: 'r2' })
        .on(DescribeRepositoriesCommand, { nextToken: 'r2' })
        .resolves({ repositories: [{ repositoryName: 'mirror' }] });
      for (const [repositoryName, pages] of Object.entries(images)) {
        pages.forEach((imageDetails, i) => {
          ecr
            .on(DescribeImagesCommand, { repositoryName, nextToken: i === 0 ? undefined : `p${i}` })
            .resolves({ imageDetails, ...(i + 1 < pages.length ? { nextToken: `p${i + 1}` } : {}) });
        });
      }
    };
    const store = await memoryStore();
    const source = new EcrRegistrySource({
      accountId: ACCOUNT,
      region: 'eu-west-1',
      clients: new EcrClients(),
    });
    try {
      fake();
      const first = await scanRegistry(source, store);
      expect(first.run.summary).toMatchObject({ repositories: 2, images: 3, tags: 4, inventoried: 2 });
      expect(first.inventoried.map((e) => [e.repository, e.digest])).toEqual([
        ['app', digest(1)],
        ['app', digest(2)],
      ]);

      // latest moves from 1 to 2 (ECR re-tags in place): a move, nothing new to inventory.
      images.app = [
        [{ imageDigest: digest(1), imageTags: ['1.0'] }],
        [{ imageDigest: digest(2), imageTags: ['0.9', 'latest'] }],
      ];
      fake();
      const second = await scanRegistry(source, store);
      expect(second.changes).toEqual([
        { kind: 'tag-moved', repository: 'app', digest: digest(2), tag: 'latest', fromDigest: digest(1) },
      ]);
      expect(second.inventoried).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('EcrClients: per-account credentials and per-region clients', () => {
  it('assumes the role built from the pattern once per account and makes one client per account × region', () => {
    const assumed: { roleArn: string; session: string; region: string }[] = [];
    const created: { region: string; credentials?: EcrCredentials }[] = [];
    const clients = new EcrClients({
      roleArnPattern: 'arn:{partition}:iam::{accountId}:role/CatalogReader',
      assumeRole: (roleArn, session, region) => {
        assumed.push({ roleArn, session, region });
        const provider: EcrCredentials = () =>
          Promise.resolve({ accessKeyId: roleArn, secretAccessKey: 'x' });
        return provider;
      },
      createClient: (config) => {
        created.push(config);
        return new ECRClient(config);
      },
    });
    const a1 = clients.client('111111111111', 'eu-west-1');
    const a2 = clients.client('111111111111', 'us-east-1');
    expect(clients.client('111111111111', 'eu-west-1')).toBe(a1);
    const gov = clients.client('222222222222', 'us-gov-west-1');
    expect(new Set([a1, a2, gov]).size).toBe(3);
    expect(assumed).toEqual([
      {
        roleArn: 'arn:aws:iam::111111111111:role/CatalogReader',
        session: 'falcon-org-catalog',
        region: 'eu-west-1',
      },
      {
        roleArn: 'arn:aws-us-gov:iam::222222222222:role/CatalogReader',
        session: 'falcon-org-catalog',
        region: 'us-gov-west-1',
      },
    ]);
    expect(created.map((c) => c.region)).toEqual(['eu-west-1', 'us-east-1', 'us-gov-west-1']);
    expect(created[0]?.credentials).toBe(created[1]?.credentials); // one provider per account
    expect(created[2]?.credentials).not.toBe(created[0]?.credentials);
    clients.destroy();
  });

  it('uses fromTemporaryCredentials with the role ARN when no assumeRole is injected', async () => {
    const clients = new EcrClients({ roleArnPattern: 'arn:{partition}:iam::{accountId}:role/R' });
    const client = clients.client('333333333333', 'eu-central-1');
    expect(clients.roleArn('333333333333', 'eu-central-1')).toBe('arn:aws:iam::333333333333:role/R');
    expect(typeof client.config.credentials).toBe('function');
    expect(await client.config.region()).toBe('eu-central-1');
    clients.destroy();
  });

  it('uses the default credential chain without a pattern', () => {
    const created: { credentials?: EcrCredentials }[] = [];
    const clients = new EcrClients({
      createClient: (config) => (created.push(config), new ECRClient(config)),
    });
    clients.client(ACCOUNT, 'eu-west-1');
    expect(created[0]?.credentials).toBeUndefined();
    expect(roleArnFor('arn:{partition}:iam::{accountId}:role/X', ACCOUNT, 'cn-north-1')).toBe(
      `arn:aws-cn:iam::${ACCOUNT}:role/X`,
    );
  });
});
