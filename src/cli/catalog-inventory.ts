import type { Command } from 'commander';
import { CatalogInputError } from '../catalog/errors.js';
import { formatInventory } from '../catalog/report.js';
import { withStore, withStoreOption } from './catalog-options.js';
import { registryId } from './catalog-source.js';
import { printJson, type Output } from '../shared/output.js';

interface InventoryOptions {
  registry?: string;
  json?: boolean;
  store?: string;
  all?: boolean;
  markAssessed?: string[];
  markAssessedAll?: boolean;
}

export function registerCatalogInventory(catalog: Command, output: Output): void {
  withStoreOption(
    catalog
      .command('inventory')
      .description(
        'List the images (digests) new to the catalog that await assessment, or mark them assessed',
      )
      .option('--registry <registry>', 'only this registry')
      .option('--all', 'also list digests already marked assessed')
      .option('--mark-assessed <digest...>', 'mark these digests assessed')
      .option('--mark-assessed-all', 'mark every digest awaiting assessment as assessed')
      .option('--json', 'print JSON'),
  ).action(async (opts: InventoryOptions) => {
    if (opts.markAssessed && opts.markAssessedAll) {
      throw new CatalogInputError('use either --mark-assessed DIGEST... or --mark-assessed-all, not both');
    }
    const registry = opts.registry === undefined ? undefined : registryId(opts.registry);
    await withStore(opts.store, async (store) => {
      const at = new Date().toISOString();
      if (opts.markAssessed || opts.markAssessedAll) {
        const digests = opts.markAssessedAll ? 'all' : (opts.markAssessed ?? []);
        const result = await store.markAssessed({ digests, at, ...(registry ? { registry } : {}) });
        if (result.unknown.length > 0) {
          throw new CatalogInputError(
            `not in the inventory${registry ? ` of ${registry}` : ''}: ${result.unknown.join(', ')}; nothing was marked`,
          );
        }
        if (opts.json) printJson(output, { marked: result.marked });
        else
          output.out(
            `Marked ${result.marked} inventory ${result.marked === 1 ? 'entry' : 'entries'} assessed.`,
          );
        return;
      }
      const entries = await store.inventory({
        ...(registry ? { registry } : {}),
        includeAssessed: opts.all === true,
      });
      if (opts.json) printJson(output, { inventory: entries });
      else output.out(formatInventory(entries, opts.all === true));
    });
  });
}
