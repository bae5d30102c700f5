/**
 * The adapters `catalog follow` runs on, created in one place: SQS for the queue, AWS Organizations
 * (through the scope cache EKS Protection uses) for the scope check, ECR in each member account
 * for lookups. Tests build a FollowDeps of their own.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SQSClient } from '@aws-sdk/client-sqs';
import { OrganizationsDirectory } from '../aws/organizations-directory.js';
import { ScopeCache } from '../aws/scope-cache.js';
import type { ResolvedConfig } from '../config/load.js';
import { EcrClients } from '../registry/ecr-clients.js';
import { EcrRegistrySource } from '../registry/ecr-source.js';
import { CatalogInputError } from '../catalog/errors.js';
import type { EventQueue, FollowScope } from '../catalog/events/follower.js';
import type { RegistryProbe } from '../catalog/events/probe.js';
import { parseQueueUrl, SqsEventQueue } from '../catalog/events/sqs-queue.js';

export interface FollowDeps {
  readonly queue: EventQueue;
  readonly scope: FollowScope;
  readonly probeFor: (account: string, region: string) => RegistryProbe;
  close(): void;
}

export interface FollowSettings {
  readonly queueUrl: string;
  /** `arn:{partition}:iam::{accountId}:role/<name>`: the role read in each member account's ECR. */
  readonly roleArnPattern?: string;
}

/** Builds the follower's adapters from the configuration (scope, regions) and the queue URL. */
export function createFollowDeps(config: ResolvedConfig, settings: FollowSettings): FollowDeps {
  const { region } = parseQueueUrl(settings.queueUrl);
  if (settings.roleArnPattern !== undefined && !settings.roleArnPattern.includes('{accountId}')) {
    throw new CatalogInputError(
      `--role-arn-pattern must contain {accountId}, e.g. arn:{partition}:iam::{accountId}:role/FalconOrgCatalogReader; got "${settings.roleArnPattern}"`,
    );
  }
  const sqs = new SQSClient({ region: region ?? config.aws.homeRegion });
  const organizations = new OrganizationsClient({
    region: config.aws.homeRegion,
    maxAttempts: 10,
    retryMode: 'adaptive',
  });
  const cache = new ScopeCache(new OrganizationsDirectory(organizations), {
    targets: config.organization.targets,
    excludeAccounts: config.organization.excludeAccounts,
  });
  const ecr = new EcrClients(settings.roleArnPattern ? { roleArnPattern: settings.roleArnPattern } : {});
  const probes = new Map<string, RegistryProbe>();
  return {
    queue: new SqsEventQueue(sqs, settings.queueUrl),
    scope: {
      hasAccount: (account) => cache.has(account),
      regions: new Set(config.derived.catalogEventRegions),
    },
    probeFor: (accountId, region) => {
      const key = `${accountId}/${region}`;
      let probe = probes.get(key);
      if (!probe) probes.set(key, (probe = new EcrRegistrySource({ accountId, region, clients: ecr })));
      return probe;
    },
    close: () => {
      sqs.destroy();
      organizations.destroy();
      ecr.destroy();
    },
  };
}
