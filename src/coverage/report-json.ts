/**
 * The JSON document, written in pieces: the header, then one line per cell (its items read back from
 * the details source one account at a time), then the totals. Valid JSON whatever the size, and never
 * one string of the whole report.
 */
import type { CoverageSummary } from './model.js';
import { groupsOf, type DetailsSource } from './report-store.js';

/** Receives the document piece by piece; awaited, so a slow reader slows the writer down. */
export type Write = (chunk: string) => Promise<void> | void;

/**
 * Writes `summary` as one JSON document. With `details`, every cell carries its `items` (what
 * `status --json` prints); without, the cells are summaries and `details` (if the summary has it)
 * says where the items are (what `latest.json` holds).
 */
export async function writeReportJson(
  summary: CoverageSummary,
  details: DetailsSource | undefined,
  write: Write,
): Promise<void> {
  const { cells, totals, allProtected, details: location, ous, ...head } = summary;
  const opening = JSON.stringify(head);
  await write(`${opening.slice(0, -1)},"cells":[\n`);
  let first = true;
  for (const group of groupsOf(cells)) {
    const items = details === undefined ? undefined : await details.itemsOf(group.cells);
    const lines = group.cells.map((cell, i) => {
      const text = JSON.stringify(cellWithoutItems(cell));
      return items === undefined ? text : `${text.slice(0, -1)},"items":${items[i] ?? '[]'}}`;
    });
    await write(`${first ? '' : ',\n'}${lines.join(',\n')}`);
    first = false;
  }
  const tail = {
    totals,
    allProtected,
    ...(ous !== undefined ? { ous } : {}),
    ...(details === undefined && location !== undefined ? { details: location } : {}),
  };
  await write(`\n],${JSON.stringify(tail).slice(1)}\n`);
}

/** A cell as the summary has it (a cell built in memory also carries its items: left out here). */
export function cellWithoutItems<T extends object>(cell: T): Omit<T, 'items'> {
  if (!('items' in cell)) return cell;
  const copy: Record<string, unknown> = { ...cell };
  delete copy['items'];
  return copy as Omit<T, 'items'>;
}
