import type { Command } from 'commander';
import { CatalogInputError } from '../catalog/errors.js';
import { formatChanges, formatEventChanges } from '../catalog/report.js';
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
      .option(
        '--events',
        "instead: the changes the registry's events applied since its last scan (needs --registry)",
      )
      .option('--json', 'print JSON'),
  ).action(async (opts: { registry?: string; events?: boolean; json?: boolean; store?: string }) => {
    if (opts.events) {
      if (opts.registry === undefined) throw new CatalogInputError('--events needs --registry <registry>');
      const registry = registryId(opts.registry);
      const applied = await withStore(opts.store, (store) => store.eventChanges(registry));
      if (opts.json) printJson(output, applied);
      else output.out(formatEventChanges(registry, applied.runs, applied.changes));
      return;
    }
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
