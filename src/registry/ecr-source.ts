import { DescribeImagesCommand, DescribeRepositoriesCommand, type ImageDetail } from '@aws-sdk/client-ecr';

import type { ImageDetails } from '../catalog/events/plan-events.js';
import type { RegistryProbe } from '../catalog/events/probe.js';
import type { ImageRecord, RegistrySource } from '../catalog/source.js';
import type { EcrClients } from './ecr-clients.js';
import { RegistryError } from './errors.js';

export interface EcrSourceOptions {
  readonly accountId: string;
  readonly region: string;
  readonly clients: EcrClients;
  /** close() destroys `clients` too (set when the clients were made for this source alone). */
  readonly ownsClients?: boolean;
}

/** Page size for DescribeRepositories and DescribeImages (the API maximum). */
const MAX_RESULTS = 1000;

/**
 * RegistrySource for one account's ECR registry in one region: DescribeRepositories and
 * DescribeImages (tagged images only, all pages of up to 1,000). ECR already groups tags per
 * digest and gives media type, push time and size; platforms of an index are not given.
 * Untagged images are skipped: the catalog is about tagged images, and ECR lists them with
 * `tagStatus: TAGGED` server-side at no cost.
 *
 * @example
 * const source = new EcrRegistrySource({ accountId: '123456789012', region: 'eu-west-1', clients: new EcrClients() });
 */
export class EcrRegistrySource implements RegistrySource, RegistryProbe {
  readonly registry: string;
  /** ECR keeps a push time per repository: an image's details are looked up in each. */
  readonly detailsScope = 'repository';

  constructor(private readonly options: EcrSourceOptions) {
    this.registry = `ecr://${options.accountId}/${options.region}`;
  }

  close(): void {
    if (this.options.ownsClients) this.options.clients.destroy();
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('DescribeRepositories', () =>
        this.client().send(
          new DescribeRepositoriesCommand({
            registryId: this.options.accountId,
            maxResults: MAX_RESULTS,
            nextToken,
          }),
          { abortSignal: signal },
        ),
      );
      for (const repo of page.repositories ?? []) if (repo.repositoryName) names.push(repo.repositoryName);
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async listImages(repository: string, signal?: AbortSignal): Promise<ImageRecord[]> {
    const records: ImageRecord[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(`DescribeImages(${repository})`, async () => {
        try {
          return await this.client().send(
            new DescribeImagesCommand({
              registryId: this.options.accountId,
              repositoryName: repository,
              filter: { tagStatus: 'TAGGED' },
              maxResults: MAX_RESULTS,
              nextToken,
            }),
            { abortSignal: signal },
          );
        } catch (error) {
          // deleted between listing and describing: nothing to catalog
          if ((error as { name?: string }).name === 'RepositoryNotFoundException') return undefined;
          throw error;
        }
      });
      if (!page) return [];
      for (const detail of page.imageDetails ?? []) {
        const record = toRecord(detail);
        if (record) records.push(record);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return records;
  }

  async resolveTag(repository: string, tag: string, signal?: AbortSignal): Promise<string | undefined> {
    return (await this.describeOne(repository, { imageTag: tag }, signal))?.imageDigest;
  }

  async imageExists(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.describeOne(repository, { imageDigest: digest }, signal)) !== undefined;
  }

  async describeImage(
    repository: string,
    digest: string,
    signal?: AbortSignal,
  ): Promise<ImageDetails | undefined> {
    const detail = await this.describeOne(repository, { imageDigest: digest }, signal);
    return detail && detailsOf(detail);
  }

  /** DescribeImages of one image by tag or digest; undefined when it (or its repository) does not exist. */
  private describeOne(
    repository: string,
    imageId: { imageTag: string } | { imageDigest: string },
    signal: AbortSignal | undefined,
  ): Promise<ImageDetail | undefined> {
    return this.call(`DescribeImages(${repository})`, async () => {
      try {
        const out = await this.client().send(
          new DescribeImagesCommand({
            registryId: this.options.accountId,
            repositoryName: repository,
            imageIds: [imageId],
          }),
          { abortSignal: signal },
        );
        return out.imageDetails?.[0];
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') return undefined;
        throw error;
      }
    });
  }

  private client() {
    return this.options.clients.client(this.options.accountId, this.options.region);
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new RegistryError(`${this.registry}: ${what} failed: ${detail}`, { cause: error });
    }
  }
}

function detailsOf(detail: ImageDetail): ImageDetails {
  return {
    ...(detail.imageManifestMediaType ? { mediaType: detail.imageManifestMediaType } : {}),
    ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt.toISOString() } : {}),
    ...(detail.imageSizeInBytes !== undefined ? { sizeBytes: detail.imageSizeInBytes } : {}),
  };
}

function toRecord(detail: ImageDetail): ImageRecord | undefined {
  const tags = detail.imageTags ?? [];
  if (!detail.imageDigest || tags.length === 0) return undefined;
  return { digest: detail.imageDigest, tags: [...tags].sort(), ...detailsOf(detail) };
}
