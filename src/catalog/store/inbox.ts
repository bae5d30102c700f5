/**
 * The inbox (schema version 3): events `catalog listen` accepted and has not applied yet. The
 * listener writes them here before it answers 202 and deletes them once applied, so a listener that
 * dies loses none of what it accepted: the next one applies them (the engine takes a second
 * delivery of an event as a duplicate).
 */
import type { RegistryEvent } from '../events/model.js';
import { insertMany, json, runIn, str } from './rows.js';
import type { SqlExecutor } from './sql.js';

export async function holdEvents(
  tx: SqlExecutor,
  registry: string,
  events: readonly RegistryEvent[],
  at: string,
): Promise<void> {
  await insertMany(
    tx,
    'catalog_event_inbox',
    ['registry', 'id', 'event', 'received_at'],
    events.map((e) => [registry, e.id, JSON.stringify(e), at]),
    'ON CONFLICT (registry, id) DO NOTHING',
  );
}

export async function heldEvents(tx: SqlExecutor, registry: string): Promise<RegistryEvent[]> {
  const rows = await tx.all(
    'SELECT event FROM catalog_event_inbox WHERE registry = ? ORDER BY received_at, id',
    [registry],
  );
  return rows.map((r) => json(str(r.event)) as RegistryEvent);
}

export async function releaseEvents(
  tx: SqlExecutor,
  registry: string,
  ids: readonly string[],
): Promise<void> {
  await runIn(
    tx,
    ids,
    (p) => `DELETE FROM catalog_event_inbox WHERE registry = ? AND id IN (${p})`,
    (chunk) => [registry, ...chunk],
  );
}
