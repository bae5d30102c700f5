import type { Command } from 'commander';
import { registerCatalogDiff } from './catalog-diff.js';
import { registerCatalogInventory } from './catalog-inventory.js';
import { registerCatalogScan } from './catalog-scan.js';
import type { SourceFactory } from './catalog-source.js';
import type { Output } from '../shared/output.js';

/** `falcon-org catalog …`: scan registries, show what changed, list and mark the inventory. */
export function registerCatalog(program: Command, output: Output, createSource?: SourceFactory): void {
  const catalog = program
    .command('catalog')
    .description(
      'Catalog the container images of a registry: what exists, what changed, what awaits assessment',
    );
  registerCatalogScan(catalog, output, createSource);
  registerCatalogDiff(catalog, output);
  registerCatalogInventory(catalog, output);
}
