import type { CatalogChange, InventoryEntry, RunRecord } from './model.js';
import type { RegistryStatus } from './store/store.js';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The few lines shown after a scan. */
export function formatScanSummary(run: RunRecord, seconds?: number): string {
  const s = run.summary;
  const took = seconds === undefined ? '' : ` in ${seconds.toFixed(1)} s`;
  const notes = [s.excluded ? `${s.excluded} excluded` : '', s.failed ? `${s.failed} failed` : ''].filter(
    Boolean,
  );
  const lines = [
    `Scanned ${run.registry}${took}`,
    `  repositories       ${s.repositories}${notes.length ? ` (${notes.join(', ')})` : ''}`,
    `  images             ${s.images}`,
    `  tags               ${s.tags}`,
    `  added              ${s.added}`,
    `  removed            ${s.removed}`,
    `  moved              ${s.moved}`,
    `  tags added/removed ${s.tagsAdded}/${s.tagsRemoved}`,
    `  newly inventoried  ${s.inventoried}`,
  ];
  if (run.failures.length > 0) {
    lines.push('Repositories that could not be scanned (their catalog entries are kept as they were):');
    for (const f of run.failures) lines.push(`  ${f.repository}: ${f.reason}`);
  }
  return lines.join('\n');
}

function describeChange(c: CatalogChange): string {
  switch (c.kind) {
    case 'image-added':
      return `+ image ${c.repository}@${c.digest}`;
    case 'image-removed':
      return `- image ${c.repository}@${c.digest}`;
    case 'tag-added':
      return `+ tag   ${c.repository}:${c.tag ?? ''} -> ${c.digest}`;
    case 'tag-removed':
      return `- tag   ${c.repository}:${c.tag ?? ''} (was ${c.digest})`;
    case 'tag-moved':
      return `~ tag   ${c.repository}:${c.tag ?? ''} ${c.fromDigest ?? '?'} -> ${c.digest}`;
  }
}

/** A run's changes, one per line, after a header naming the run. */
export function formatChanges(run: RunRecord, changes: readonly CatalogChange[]): string {
  const s = run.summary;
  const header = `Last scan of ${run.registry} (run ${run.id}, finished ${run.finishedAt}): ${plural(s.added, 'image')} added, ${s.removed} removed, ${plural(s.moved, 'tag')} moved, ${s.tagsAdded} tags added, ${s.tagsRemoved} removed`;
  if (changes.length === 0) return `${header}\nNo changes.`;
  return [header, ...changes.map(describeChange)].join('\n');
}

/** The inventory as a table-like list. */
export function formatInventory(entries: readonly InventoryEntry[], includeAssessed: boolean): string {
  if (entries.length === 0)
    return includeAssessed ? 'The inventory is empty.' : 'No images await assessment.';
  const lines = [
    includeAssessed
      ? `${plural(entries.length, 'image')} in the inventory:`
      : `${plural(entries.length, 'image')} awaiting assessment:`,
  ];
  for (const e of entries) {
    const tags = e.tags.length ? ` tags ${e.tags.join(', ')}` : '';
    const assessed = e.assessedAt ? ` (assessed ${e.assessedAt})` : '';
    lines.push(`  ${e.digest}  ${e.registry}/${e.repository}${tags}${assessed}`);
  }
  return lines.join('\n');
}

/** Outcomes in the order they are shown. */
const OUTCOME_ORDER = ['applied', 'unchanged', 'settled', 'stale', 'duplicate', 'excluded', 'ignored'];

/** Per registry: last scan, events since, last event, rejections. */
export function formatStatus(rows: readonly RegistryStatus[]): string {
  if (rows.length === 0) return 'No scan or event has been recorded yet.';
  const lines: string[] = [];
  for (const row of rows) {
    lines.push(row.registry);
    // Rows of a listener or queue (requests that named no registry) have no scans.
    if (/^(https?|ecr):\/\//.test(row.registry)) {
      lines.push(
        `  last scan            ${row.lastScan ? `${row.lastScan.finishedAt} (run ${row.lastScan.runId})` : 'never (run `falcon-org catalog scan`)'}`,
      );
    }
    const counts = Object.entries(row.eventsSinceScan).sort(
      ([a], [b]) => OUTCOME_ORDER.indexOf(a) - OUTCOME_ORDER.indexOf(b),
    );
    lines.push(
      `  events since         ${counts.length ? counts.map(([outcome, n]) => `${n} ${outcome}`).join(', ') : 'none'}`,
    );
    if (row.lastEventAt) lines.push(`  last event applied   ${row.lastEventAt}`);
    if (row.heldEvents) {
      lines.push(
        `  accepted, not applied ${row.heldEvents} (in the store; the next \`catalog listen\` applies them)`,
      );
    }
    for (const r of row.rejections) {
      lines.push(`  rejected             ${r.count} ${r.reason} (last ${r.lastAt}: ${r.detail})`);
    }
  }
  return lines.join('\n');
}

/** The changes events applied since the last scan. */
export function formatEventChanges(
  registry: string,
  runs: readonly RunRecord[],
  changes: readonly CatalogChange[],
): string {
  const header = `Changes applied from events of ${registry} since its last scan: ${plural(runs.length, 'batch', 'batches')}`;
  if (changes.length === 0) return `${header}\nNo changes.`;
  return [header, ...changes.map(describeChange)].join('\n');
}
