import type { Command } from 'commander';
import { registerCatalogDiff } from './catalog-diff.js';
import { registerCatalogFollow, type FollowDepsFactory } from './catalog-follow.js';
import { registerCatalogInventory } from './catalog-inventory.js';
import { registerCatalogListen, type ProbeFactory } from './catalog-listen.js';
import { registerCatalogScan } from './catalog-scan.js';
import { registerCatalogStatus } from './catalog-status.js';
import type { SourceFactory } from './catalog-source.js';
import type { Output } from '../shared/output.js';

/**
 * `falcon-org catalog …`: scan registries, show what changed, list and mark the inventory, follow a
 * registry's own events (notifications, ECR events) and show where each registry's catalog stands.
 */
/** What the catalog commands reach registries, queues and AWS through; tests inject their own. */
export interface CatalogWiring {
  readonly createSource?: SourceFactory;
  readonly createProbe?: ProbeFactory;
  readonly createFollowDeps?: FollowDepsFactory;
}

export function registerCatalog(program: Command, output: Output, wiring: CatalogWiring = {}): void {
  const catalog = program
    .command('catalog')
    .description(
      'Catalog the container images of a registry: what exists, what changed, what awaits assessment',
    );
  registerCatalogScan(catalog, output, wiring.createSource);
  registerCatalogDiff(catalog, output);
  registerCatalogInventory(catalog, output);
  registerCatalogStatus(catalog, output);
  registerCatalogListen(catalog, output, wiring.createProbe);
  registerCatalogFollow(catalog, output, wiring.createFollowDeps);
}
