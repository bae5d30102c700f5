import type { Command } from 'commander';
import { CatalogInputError } from '../catalog/errors.js';
import type { FollowDeps } from './catalog-follow-deps.js';
import { describeStoreLocation, openCatalogStore, resolveStoreLocation } from '../catalog/store/open.js';
import type { ResolvedConfig } from '../config/load.js';
import {
  commandLog,
  repositoryOptions,
  withRepositoryOptions,
  withStoreOption,
  type RepositoryOptions,
} from './catalog-options.js';
import type { Output } from '../shared/output.js';

interface FollowOptions extends RepositoryOptions {
  config: string;
  roleArnPattern?: string;
  untilEmpty?: boolean;
  store?: string;
  json?: boolean;
}

/** Builds the follower's queue, scope and ECR lookups; injectable for tests. */
export type FollowDepsFactory = (
  config: ResolvedConfig,
  settings: { queueUrl: string; roleArnPattern?: string },
) => Promise<FollowDeps>;

const awsFollowDeps: FollowDepsFactory = async (config, settings) => {
  // Loaded on use: the SQS, Organizations and ECR clients are for this command alone.
  const { createFollowDeps } = await import('./catalog-follow-deps.js');
  return createFollowDeps(config, settings);
};

export function registerCatalogFollow(
  catalog: Command,
  output: Output,
  createDeps: FollowDepsFactory = awsFollowDeps,
): void {
  withStoreOption(
    withRepositoryOptions(catalog.command('follow'))
      .description(
        "Keep the catalog of every member account's ECR current from its image pushes and deletes: drain the catalog's queue (catalog.ecrEvents)",
      )
      .argument(
        '<queue-url>',
        'the queue the central bus puts ECR image actions on (stack output CatalogEventsQueueUrl)',
      )
      .requiredOption(
        '-c, --config <file>',
        'configuration file: the organization scope and catalog.ecrEvents.regions',
      )
      .option(
        '--role-arn-pattern <pattern>',
        'role to read ECR in each member account, e.g. arn:{partition}:iam::{accountId}:role/<name> (default: your own credentials)',
      )
      .option('--until-empty', 'stop once the queue is empty (for a schedule) instead of following it')
      .option('--json', 'log one JSON object per line on stdout')
      .addHelpText(
        'after',
        '\nSeveral followers may drain one queue into one PostgreSQL store at once. Events from accounts outside\nthe organization scope or regions outside catalog.ecrEvents.regions are refused and counted (catalog status).\nRuns until SIGINT or SIGTERM (or, with --until-empty, until the queue is empty).',
      ),
  ).action(async (queueUrl: string, opts: FollowOptions) => {
    const { loadConfigFile } = await import('../config/load.js');
    const { followQueue } = await import('../catalog/events/follower.js');
    const config = await loadConfigFile(opts.config);
    if (!config.catalog.ecrEvents.enabled) {
      throw new CatalogInputError(
        `catalog.ecrEvents.enabled is not true in ${opts.config}: the queue and the member rules exist only when it is; enable it and deploy, or give the configuration the deployment was made with`,
      );
    }
    const location = resolveStoreLocation(opts.store);
    const deps = await createDeps(config, {
      queueUrl,
      ...(opts.roleArnPattern ? { roleArnPattern: opts.roleArnPattern } : {}),
    });
    const log = commandLog(output, opts.json === true);
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const store = await openCatalogStore(location);
    try {
      log({
        level: 'info',
        message: `following ${deps.queue.name} into ${describeStoreLocation(location)} (regions ${[...deps.scope.regions].join(', ')})`,
      });
      const stats = await followQueue({
        queue: deps.queue,
        store,
        scope: deps.scope,
        probeFor: deps.probeFor,
        apply: repositoryOptions(opts),
        log,
        untilEmpty: opts.untilEmpty === true,
        signal: controller.signal,
      });
      const summary = `${stats.messages} messages: ${stats.handled} events handled, ${stats.ignored} ignored, ${stats.rejected} refused, ${stats.retried} left for another attempt`;
      if (opts.json) log({ level: 'info', message: 'stopped', ...stats });
      else output.out(`Followed ${deps.queue.name}: ${summary}`);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await store.close();
      deps.close();
    }
  });
}
