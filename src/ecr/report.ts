import { countOutcomes, RegionOutcome, unsuccessful, type RegionResult } from './outcome.js';

/** One line for CloudFormation's Reason and for logs: counts, then every unsuccessful region with its reason. */
export function summarizeResults(results: readonly RegionResult[]): string {
  if (results.length === 0) return 'no regions to reconcile';
  const counts = countOutcomes(results);
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${n} ${outcome}`);
  const bad = unsuccessful(results);
  const head = `${results.length} region(s): ${parts.join(', ')}`;
  if (bad.length === 0) return head;
  const failed = bad.map((r) => `${r.region} ${r.outcome}: ${r.reason ?? 'no reason given'}`);
  return `${head}. ${failed.join('; ')}`;
}

/** Small Data for the custom resource (CloudFormation limits the whole answer to 4 KB). */
export function resultData(results: readonly RegionResult[]): Record<string, string> {
  const counts = countOutcomes(results);
  const connected = results.filter(
    (r) =>
      r.outcome === RegionOutcome.Created ||
      r.outcome === RegionOutcome.Kept ||
      r.outcome === RegionOutcome.Adopted,
  );
  return {
    Created: String(counts.created),
    Kept: String(counts.kept + counts.adopted),
    Deleted: String(counts.deleted),
    Failed: String(counts.failed + counts.skipped),
    ConnectedRegionCount: String(connected.length),
  };
}
