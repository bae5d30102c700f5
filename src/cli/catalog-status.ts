import type { Command } from 'commander';
import { formatStatus } from '../catalog/report.js';
import { withStore, withStoreOption } from './catalog-options.js';
import { registryId } from './catalog-source.js';
import { printJson, type Output } from '../shared/output.js';

export function registerCatalogStatus(catalog: Command, output: Output): void {
  withStoreOption(
    catalog
      .command('status')
      .description(
        'Show per registry: the last scan, the events applied since (by outcome) and the events rejected, and why',
      )
      .option('--registry <registry>', 'only this registry')
      .option('--json', 'print JSON'),
  ).action(async (opts: { registry?: string; json?: boolean; store?: string }) => {
    const wanted = opts.registry === undefined ? undefined : registryId(opts.registry);
    const rows = (await withStore(opts.store, (store) => store.status())).filter(
      (row) => wanted === undefined || row.registry === wanted,
    );
    if (opts.json) printJson(output, { registries: rows });
    else output.out(formatStatus(rows));
  });
}
