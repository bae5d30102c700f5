import type { Command } from 'commander';
import { formatChanges } from '../catalog/report.js';
import { withStore, withStoreOption } from './catalog-options.js';
import { registryId } from './catalog-source.js';
import { printJson, type Output } from '../shared/output.js';

export function registerCatalogDiff(catalog: Command, output: Output): void {
  withStoreOption(
    catalog
      .command('diff')
      .description("Show the last scan's changes: images added and removed, tags added, removed and moved")
      .option(
        '--registry <registry>',
        'the last scan of this registry (default: the last scan of any registry)',
      )
      .option('--json', 'print JSON'),
  ).action(async (opts: { registry?: string; json?: boolean; store?: string }) => {
    const last = await withStore(opts.store, (store) =>
      store.lastRun(opts.registry === undefined ? undefined : registryId(opts.registry)),
    );
    if (opts.json) {
      printJson(output, last ?? { run: null, changes: [] });
      return;
    }
    output.out(last ? formatChanges(last.run, last.changes) : 'No scan has been recorded yet.');
  });
}
