import type { PreflightFinding } from '../aws/preflight-finding.js';
import type { EksDestroyReport } from '../cluster/destroy-hook.js';
import type { InstanceRow, StackSetReport, Totals } from '../aws/stackset-results.js';
import type { Leftovers } from './leftovers.js';

/** One StackSet's fate in `destroy`. */
export interface DestroyedStackSet {
  readonly name: string;
  readonly instancesBefore: number;
  /** `deleted`: the StackSet and its instances are gone; `remaining`: instances are left (see rows). */
  readonly outcome: 'deleted' | 'remaining';
  readonly remaining: readonly InstanceRow[];
}

/** The one JSON document `--json` prints, for deploy and destroy alike. */
export interface CommandResult {
  readonly action: 'deploy' | 'destroy';
  readonly ok: boolean;
  readonly stack?: {
    readonly name: string;
    readonly arn?: string;
    readonly account?: string;
    readonly region: string;
    /** False when destroy found no stack to delete. */
    readonly existed?: boolean;
  };
  readonly warnings: readonly string[];
  readonly stackSets?: StackSetReport;
  readonly destroyed?: readonly DestroyedStackSet[];
  /** destroy: what stays in member accounts by default, or what `--purge` removed. */
  readonly leftovers?: Leftovers;
  /** destroy: what was stopped, what each cluster's uninstall did, where the runs table is kept. */
  readonly eks?: EksDestroyReport;
  readonly error?: { readonly message: string; readonly findings?: readonly PreflightFinding[] };
  /** Set on error results: 2 for input the user can fix, 1 for failures. */
  readonly exitCode?: number;
}

/** Renders the per-account × region StackSet report as aligned text. */
export function renderStackSetReport(report: StackSetReport): string {
  const lines: string[] = [];
  for (const set of report.stackSets) {
    const ops = set.operations
      .map((o) => `${o.action} ${o.status}${o.reason ? ` (${o.reason})` : ''}`)
      .join(', ');
    lines.push(
      `StackSet ${set.name}${ops ? ` — ${ops}` : ' — no operations'}${set.timedOut ? ' — still running' : ''}`,
    );
    if (set.note !== undefined) lines.push(`  (${set.note})`);
    if (set.error !== undefined) lines.push(`  could not read its results: ${oneLine(set.error)}`);
    else if (set.rows.length === 0) lines.push('  (no stack instances)');
    else lines.push(...table(set.rows).map((l) => `  ${l}`));
    lines.push(`  ${describeTotals(set.totals)}`);
    lines.push('');
  }
  lines.push(
    `Total: ${describeTotals(report.totals)} in ${report.stackSets.length} StackSet${report.stackSets.length === 1 ? '' : 's'}`,
  );
  if (report.failures.length > 0) {
    lines.push(`Failed (${report.failures.length}):`);
    for (const f of report.failures)
      lines.push(`  ${f.account} ${f.region} (${f.stackSet}): ${oneLine(f.reason ?? f.status)}`);
  }
  if (report.failedOperations.length > 0)
    lines.push(`Failed operations: ${report.failedOperations.join(', ')}`);
  if (report.timedOut.length > 0)
    lines.push(`Still running when waiting stopped: ${report.timedOut.join(', ')}`);
  if (report.unreadable.length > 0)
    lines.push(`Results not read: ${report.unreadable.map((u) => oneLine(u)).join('; ')}`);
  return lines.join('\n');
}

export function renderDestroyed(sets: readonly DestroyedStackSet[]): string {
  if (sets.length === 0) return 'No StackSets belonged to the root stack.';
  const lines: string[] = [];
  for (const s of sets) {
    if (s.outcome === 'deleted') {
      lines.push(
        `StackSet ${s.name}: deleted with its ${s.instancesBefore} stack instance${s.instancesBefore === 1 ? '' : 's'}`,
      );
    } else if (s.remaining.length === 0) {
      lines.push(`StackSet ${s.name}: still exists, with no stack instances left`);
    } else {
      lines.push(`StackSet ${s.name}: ${s.remaining.length} of ${s.instancesBefore} stack instances remain`);
      lines.push(...table(s.remaining).map((l) => `  ${l}`));
    }
  }
  return lines.join('\n');
}

/** destroy's EKS part: clusters that keep Falcon, and where the runs table stays. */
export function renderEksDestroyed(eks: EksDestroyReport): string {
  const lines: string[] = [];
  const uninstalled = eks.clusters.filter((c) => c.status === 'uninstalled');
  const kept = eks.clusters.filter((c) => c.status !== 'uninstalled');
  if (eks.keptClusterSensors) {
    lines.push('EKS: --keep-cluster-sensors: Falcon stays on every cluster it was installed on.');
  } else {
    lines.push(`EKS: Falcon removed from ${uninstalled.length} cluster(s).`);
  }
  if (kept.length > 0) {
    lines.push(`EKS: Falcon stays on ${kept.length} cluster(s):`);
    for (const c of kept)
      lines.push(
        `  ${c.accountId} ${c.region} ${c.cluster}: ${c.status}${c.reason ? ` (${oneLine(c.reason)})` : ''}`,
      );
  }
  lines.push(
    `EKS: the runs table ${eks.runsTable.name} (home region ${eks.runsTable.region}) is kept: it records every cluster Falcon was installed on and each cluster's last run. Delete it when you no longer need it: aws dynamodb delete-table --table-name ${eks.runsTable.name} --region ${eks.runsTable.region}`,
  );
  return lines.join('\n');
}

/** A summary naming failed instances, for the exit-1 error message. */
export function failureSummary(report: StackSetReport): string {
  const parts: string[] = [];
  if (report.failures.length > 0) {
    const named = report.failures.slice(0, 10).map((f) => `${f.account}/${f.region} (${f.stackSet})`);
    const more = report.failures.length > 10 ? ` and ${report.failures.length - 10} more` : '';
    parts.push(`${report.failures.length} stack instance(s) failed: ${named.join(', ')}${more}`);
  }
  if (report.failedOperations.length > 0)
    parts.push(`operation(s) failed or stopped: ${report.failedOperations.join(', ')}`);
  if (report.timedOut.length > 0)
    parts.push(`still running, check again later: ${report.timedOut.join(', ')}`);
  if (report.unreadable.length > 0)
    parts.push(`results could not be read: ${report.unreadable.map((u) => oneLine(u)).join('; ')}`);
  return parts.join('; ');
}

function describeTotals(t: Totals): string {
  const parts = [`${t.succeeded} succeeded`, `${t.failed} failed`];
  if (t.inProgress > 0) parts.push(`${t.inProgress} in progress`);
  if (t.other > 0) parts.push(`${t.other} other`);
  return `${t.instances} instance${t.instances === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

function table(rows: readonly InstanceRow[]): string[] {
  const header = ['ACCOUNT', 'REGION', 'STATUS', 'REASON'];
  const body = rows.map((r) => [r.account, r.region, r.status, oneLine(r.reason ?? '')]);
  const widths = [0, 1, 2].map((i) => Math.max(header[i].length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...body.map(fmt)];
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}
