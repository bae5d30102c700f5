import type { Command } from 'commander';
import { PartialScanError } from '../catalog/errors.js';
import { resolveStoreLocation } from '../catalog/store/open.js';
import type { DedupeScope } from '../catalog/model.js';
import { formatScanSummary } from '../catalog/report.js';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, scanRegistry } from '../catalog/scan.js';
import { integerOption, withRepositoryOptions, withStore, withStoreOption } from './catalog-options.js';
import { scanProgress } from './catalog-progress.js';
import { createRegistrySource, type SourceFactory } from './catalog-source.js';
import { printJson, type Output } from '../shared/output.js';

interface ScanOptions {
  include?: string[];
  exclude?: string[];
  concurrency: number;
  pageSize?: number;
  store?: string;
  dedupe: DedupeScope;
  json?: boolean;
}

export function registerCatalogScan(
  catalog: Command,
  output: Output,
  createSource: SourceFactory = createRegistrySource,
): void {
  withStoreOption(
    withRepositoryOptions(
      catalog
        .command('scan')
        .description(
          'Scan a registry: catalog every repository, image and tag, diff with the last scan, inventory new images',
        )
        .argument('<registry>', 'http(s)://host[:port] for an OCI registry, or ecr://<account>/<region>'),
    )
      .option(
        '--concurrency <n>',
        `repositories collected at the same time (1-${MAX_CONCURRENCY})`,
        integerOption('--concurrency', 1, MAX_CONCURRENCY),
        DEFAULT_CONCURRENCY,
      )
      .option(
        '--page-size <n>',
        'entries per page asked of the registry',
        integerOption('--page-size', 1, 10_000),
      )
      .option('--json', 'print the result as JSON')
      .addHelpText(
        'after',
        '\nCredentials for basic or bearer-token auth are read from FALCON_ORG_REGISTRY_USERNAME and\nFALCON_ORG_REGISTRY_PASSWORD (never from the command line). ECR uses the AWS SDK credential chain.',
      ),
  ).action(async (argument: string, opts: ScanOptions) => {
    const dedupe = opts.dedupe;
    // Check the store setting before touching the registry.
    const location = resolveStoreLocation(opts.store);
    const source = await createSource(argument, {
      ...(opts.pageSize === undefined ? {} : { pageSize: opts.pageSize }),
      env: process.env,
    });
    const controller = new AbortController();
    const onSignal = (): void => controller.abort(new Error('scan interrupted; nothing was committed'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const progress = scanProgress(output, !opts.json);
    const started = performance.now();
    try {
      const result = await withStore(location, (store) =>
        scanRegistry(source, store, {
          ...(opts.include ? { include: opts.include } : {}),
          ...(opts.exclude ? { exclude: opts.exclude } : {}),
          concurrency: opts.concurrency,
          dedupe,
          signal: controller.signal,
          onProgress: (p) => progress.update(p),
        }),
      );
      progress.stop();
      if (opts.json) printJson(output, result);
      else output.out(formatScanSummary(result.run, (performance.now() - started) / 1000));
      if (result.run.failures.length > 0) {
        throw new PartialScanError(result.run.failures.map((f) => f.repository));
      }
    } finally {
      source.close?.();
      progress.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}
