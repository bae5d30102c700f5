import { countOutcomes, RegionOutcome, type RegionResult } from './outcome.js';

/** Outcomes whose reasons the summary names, in this order. */
const EXPLAINED: readonly RegionOutcome[] = [
  RegionOutcome.Failed,
  RegionOutcome.Skipped,
  RegionOutcome.Deferred,
  RegionOutcome.Left,
  RegionOutcome.Absent,
];

/**
 * One line for CloudFormation's Reason and for logs: counts, then every region that did not simply
 * succeed with its reason. Regions with the same outcome and reason share one entry (a bad client secret
 * is said once, not once per region). Connections left in Falcon are named by ID.
 */
export function summarizeResults(results: readonly RegionResult[]): string {
  if (results.length === 0) return 'no regions to reconcile';
  const counts = countOutcomes(results);
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${n} ${outcome}`);
  const head = `${results.length} region(s): ${parts.join(', ')}`;
  const groups = new Map<string, { outcome: RegionOutcome; reason: string; regions: string[] }>();
  for (const outcome of EXPLAINED) {
    for (const r of results) {
      if (r.outcome !== outcome) continue;
      if (r.reason === undefined && outcome !== RegionOutcome.Failed && outcome !== RegionOutcome.Skipped)
        continue;
      const reason = r.reason ?? 'no reason given';
      const key = `${outcome}\n${reason}`;
      const group = groups.get(key) ?? { outcome, reason, regions: [] };
      group.regions.push(r.region);
      groups.set(key, group);
    }
  }
  const notes = [...groups.values()].map((g) => `${g.regions.join(', ')} ${g.outcome}: ${g.reason}`);
  const left = leftBehind(results);
  if (left.length > 0) {
    notes.push(
      `connections left in Falcon: ${left.map((r) => `${r.connectionId} (${r.region})`).join(', ')}`,
    );
  }
  return notes.length === 0 ? head : `${head}. ${notes.join('; ')}`;
}

/** Owned connections a run leaves in Falcon on purpose or because Falcon could not be reached. */
export function leftBehind(results: readonly RegionResult[]): (RegionResult & { connectionId: string })[] {
  return results.filter(
    (r): r is RegionResult & { connectionId: string } =>
      r.outcome === RegionOutcome.Left && r.connectionId !== undefined,
  );
}

/** Small Data for the custom resource (CloudFormation limits the whole answer to 4 KB). */
export function resultData(results: readonly RegionResult[]): Record<string, string> {
  const counts = countOutcomes(results);
  const connected = results.filter(
    (r) =>
      r.outcome === RegionOutcome.Created ||
      r.outcome === RegionOutcome.Kept ||
      r.outcome === RegionOutcome.Adopted ||
      r.outcome === RegionOutcome.Replaced,
  );
  return {
    Created: String(counts.created + counts.replaced),
    Kept: String(counts.kept + counts.adopted),
    Deleted: String(counts.deleted),
    Failed: String(counts.failed + counts.skipped),
    Deferred: String(counts.deferred),
    ConnectedRegionCount: String(connected.length),
  };
}
