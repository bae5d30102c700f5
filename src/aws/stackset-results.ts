import {
  type CallAs,
  type CloudFormationClient,
  ListStackInstancesCommand,
  ListStackSetOperationResultsCommand,
  ListStackSetOperationsCommand,
  type StackInstanceSummary,
  type StackSetOperationResultSummary,
  type StackSetOperationSummary,
} from '@aws-sdk/client-cloudformation';

/*
 * What StackSet operations did, per account and region: fetched with ListStackSetOperations,
 * ListStackSetOperationResults and ListStackInstances (every page), then turned into a report by a
 * pure function so the report can be tested on plain SDK responses.
 */

const ACTIVE_OPERATION = new Set(['RUNNING', 'QUEUED', 'STOPPING']);
const FAILED_INSTANCE = new Set(['FAILED', 'INOPERABLE', 'FAILED_IMPORT']);
const SUCCEEDED_INSTANCE = new Set(['SUCCEEDED', 'CURRENT']);
/** Upper bound on ListStackSetOperations pages read per poll (history can be long; newest come first). */
const MAX_OPERATION_PAGES = 10;

export type CloudFormationSender = Pick<CloudFormationClient, 'send'>;

/** Everything observed about one StackSet; the input of {@link buildStackSetReport}. */
export interface StackSetObservation {
  readonly stackSetName: string;
  /** Operations this run is about, newest first. */
  readonly operations: readonly StackSetOperationSummary[];
  /** Per-account/region results of those operations (any order). */
  readonly operationResults: readonly (StackSetOperationResultSummary & { OperationId: string })[];
  readonly instances: readonly StackInstanceSummary[];
  /** True when an operation was still running when waiting gave up. */
  readonly timedOut: boolean;
  /** Why the StackSet could not be read (the other StackSets are still reported). */
  readonly error?: string;
  /** Something the reader should know about where these results come from. */
  readonly note?: string;
}

export interface WaitOptions {
  /** Give up waiting after this long. @default 60 minutes */
  readonly timeoutMs?: number;
  /** First pause between polls; doubles up to maxDelayMs. @default 5 s */
  readonly initialDelayMs?: number;
  /** @default 60 s */
  readonly maxDelayMs?: number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
  /** Called before each pause with the operations still running. */
  readonly onWaiting?: (stackSetName: string, active: readonly StackSetOperationSummary[]) => void;
}

export interface ObserveRequest {
  readonly stackSetName: string;
  readonly callAs: CallAs;
  /** Operations created at or after this time belong to this run; active ones always do. */
  readonly since?: Date;
}

/** Waits (bounded, with backoff) for the StackSet's operations to finish, then reads every result page. */
export async function observeStackSet(
  cfn: CloudFormationSender,
  request: ObserveRequest,
  options: WaitOptions = {},
): Promise<StackSetObservation> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? 60 * 60_000);
  const maxDelay = options.maxDelayMs ?? 60_000;
  let delay = options.initialDelayMs ?? 5_000;

  let operations = await relevantOperations(cfn, request);
  let active = operations.filter((op) => ACTIVE_OPERATION.has(op.Status ?? ''));
  while (active.length > 0 && now() < deadline) {
    options.onWaiting?.(request.stackSetName, active);
    await sleep(Math.min(delay, Math.max(0, deadline - now())));
    delay = Math.min(delay * 2, maxDelay);
    operations = await relevantOperations(cfn, request);
    active = operations.filter((op) => ACTIVE_OPERATION.has(op.Status ?? ''));
  }

  const operationResults: (StackSetOperationResultSummary & { OperationId: string })[] = [];
  for (const op of operations) {
    if (!op.OperationId) continue;
    const results = await allPages(async (NextToken) => {
      const out = await cfn.send(
        new ListStackSetOperationResultsCommand({
          StackSetName: request.stackSetName,
          OperationId: op.OperationId,
          CallAs: request.callAs,
          NextToken,
        }),
      );
      return { items: out.Summaries ?? [], next: out.NextToken };
    });
    operationResults.push(...results.map((r) => ({ ...r, OperationId: op.OperationId ?? '' })));
  }
  const instances = await listInstances(cfn, request.stackSetName, request.callAs);
  return {
    stackSetName: request.stackSetName,
    operations,
    operationResults,
    instances,
    timedOut: active.length > 0,
  };
}

/**
 * Like {@link observeStackSet}, but a StackSet that cannot be read (throttling, permissions) becomes an
 * observation carrying the reason instead of failing the whole report.
 */
export async function observeStackSetOrReason(
  cfn: CloudFormationSender,
  request: ObserveRequest,
  options: WaitOptions = {},
): Promise<StackSetObservation> {
  try {
    return await observeStackSet(cfn, request, options);
  } catch (error) {
    const reason = !(error instanceof Error)
      ? String(error)
      : error.name !== 'Error'
        ? `${error.name}: ${error.message}`
        : error.message;
    return {
      stackSetName: request.stackSetName,
      operations: [],
      operationResults: [],
      instances: [],
      timedOut: false,
      error: reason,
    };
  }
}

/** Every stack instance of a StackSet (all pages). */
export async function listInstances(
  cfn: CloudFormationSender,
  stackSetName: string,
  callAs: CallAs,
): Promise<StackInstanceSummary[]> {
  return allPages(async (NextToken) => {
    const out = await cfn.send(
      new ListStackInstancesCommand({ StackSetName: stackSetName, CallAs: callAs, NextToken }),
    );
    return { items: out.Summaries ?? [], next: out.NextToken };
  });
}

/**
 * The operations of this run (created since `request.since`, or still active), newest first; the
 * latest one when there are none. Cheap: no per-account results are read.
 */
export async function relevantOperations(
  cfn: CloudFormationSender,
  request: ObserveRequest,
): Promise<StackSetOperationSummary[]> {
  const all = await allPages(async (NextToken) => {
    const out = await cfn.send(
      new ListStackSetOperationsCommand({
        StackSetName: request.stackSetName,
        CallAs: request.callAs,
        NextToken,
      }),
    );
    return { items: out.Summaries ?? [], next: out.NextToken };
  }, MAX_OPERATION_PAGES);
  const newestFirst = [...all].sort((a, b) => time(b.CreationTimestamp) - time(a.CreationTimestamp));
  const since = request.since ? request.since.getTime() : Number.POSITIVE_INFINITY;
  const relevant = newestFirst.filter(
    (op) => ACTIVE_OPERATION.has(op.Status ?? '') || time(op.CreationTimestamp) >= since,
  );
  // Nothing new (the StackSet did not change): report on the latest operation.
  return relevant.length > 0 ? relevant : newestFirst.slice(0, 1);
}

async function allPages<T>(
  page: (token: string | undefined) => Promise<{ items: readonly T[]; next?: string | undefined }>,
  maxPages = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const out = await page(token);
    items.push(...out.items);
    token = out.next;
    pages += 1;
  } while (token && pages < maxPages);
  return items;
}

function time(date: Date | undefined): number {
  return date ? date.getTime() : 0;
}

/**
 * Only the failed or stopped operations of an observation, with their results: after a failed
 * deploy, the rollback's later operation would otherwise hide each account's failure and reason.
 * An observation without a failed operation is returned unchanged.
 */
export function focusOnFailedOperations(observation: StackSetObservation): StackSetObservation {
  const failed = observation.operations.filter((op) => op.Status === 'FAILED' || op.Status === 'STOPPED');
  if (failed.length === 0) return observation;
  const ids = new Set(failed.map((op) => op.OperationId ?? ''));
  return {
    ...observation,
    operations: failed,
    operationResults: observation.operationResults.filter((r) => ids.has(r.OperationId)),
  };
}

/* ------------------------------------------------------------------ report (pure) */

export type InstanceOutcome = 'succeeded' | 'failed' | 'in-progress' | 'other';

export interface InstanceRow {
  readonly stackSet: string;
  readonly account: string;
  readonly region: string;
  /** Detailed status as AWS reports it (SUCCEEDED, FAILED, RUNNING, OUTDATED, ...). */
  readonly status: string;
  readonly outcome: InstanceOutcome;
  readonly reason?: string;
}

export interface OperationLine {
  readonly operationId: string;
  readonly action: string;
  readonly status: string;
  readonly reason?: string;
}

export interface Totals {
  readonly instances: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly inProgress: number;
  readonly other: number;
}

export interface StackSetSection {
  readonly name: string;
  readonly operations: readonly OperationLine[];
  readonly rows: readonly InstanceRow[];
  readonly totals: Totals;
  readonly timedOut: boolean;
  /** Why the StackSet's results could not be read, when they could not. */
  readonly error?: string;
  readonly note?: string;
}

export interface StackSetReport {
  readonly stackSets: readonly StackSetSection[];
  readonly totals: Totals;
  readonly failures: readonly InstanceRow[];
  /** Failed or stopped operations, named `stackSet/operationId`. */
  readonly failedOperations: readonly string[];
  readonly timedOut: readonly string[];
  /** StackSets whose results could not be read, as `name: reason`. */
  readonly unreadable: readonly string[];
  /** True when nothing failed, nothing is still running and every StackSet could be read. */
  readonly ok: boolean;
}

/** Turns observations into a per-account × region report with totals. Pure: no I/O. */
export function buildStackSetReport(observations: readonly StackSetObservation[]): StackSetReport {
  const sections = observations.map(section);
  const rows = sections.flatMap((s) => s.rows);
  const failedOperations = sections.flatMap((s) =>
    s.operations
      .filter((o) => o.status === 'FAILED' || o.status === 'STOPPED')
      .map((o) => `${s.name}/${o.operationId}`),
  );
  const failures = rows.filter((r) => r.outcome === 'failed');
  const timedOut = sections.filter((s) => s.timedOut).map((s) => s.name);
  const unreadable = sections.flatMap((s) => (s.error !== undefined ? [`${s.name}: ${s.error}`] : []));
  return {
    stackSets: sections,
    totals: totalsOf(rows),
    failures,
    failedOperations,
    timedOut,
    unreadable,
    ok:
      failures.length === 0 &&
      failedOperations.length === 0 &&
      timedOut.length === 0 &&
      unreadable.length === 0,
  };
}

function section(obs: StackSetObservation): StackSetSection {
  const order = new Map(obs.operations.map((op, i) => [op.OperationId ?? '', i]));
  // Newest operation's result per account/region wins.
  const latestResult = new Map<string, StackSetOperationResultSummary>();
  const rank = new Map<string, number>();
  for (const result of obs.operationResults) {
    const key = keyOf(result.Account, result.Region);
    const r = order.get(result.OperationId) ?? Number.MAX_SAFE_INTEGER;
    if (r < (rank.get(key) ?? Number.MAX_SAFE_INTEGER)) {
      rank.set(key, r);
      latestResult.set(key, result);
    }
  }

  const rows = new Map<string, InstanceRow>();
  for (const inst of obs.instances) {
    const key = keyOf(inst.Account, inst.Region);
    const result = latestResult.get(key);
    const detailed = inst.StackInstanceStatus?.DetailedStatus ?? inst.Status ?? 'UNKNOWN';
    const status =
      result?.Status === 'FAILED' ? 'FAILED' : inst.Status === 'INOPERABLE' ? 'INOPERABLE' : detailed;
    const reason =
      nonEmpty(result?.Status === 'FAILED' ? result.StatusReason : undefined) ??
      nonEmpty(inst.StatusReason) ??
      nonEmpty(result?.StatusReason);
    rows.set(key, row(obs.stackSetName, inst.Account, inst.Region, status, reason));
  }
  // Results for places that have no instance (yet, or any more): creation failed, or deleted.
  for (const [key, result] of latestResult) {
    if (rows.has(key)) continue;
    rows.set(
      key,
      row(
        obs.stackSetName,
        result.Account,
        result.Region,
        result.Status ?? 'UNKNOWN',
        nonEmpty(result.StatusReason),
      ),
    );
  }
  const sorted = [...rows.values()].sort(
    (a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region),
  );
  return {
    name: obs.stackSetName,
    operations: obs.operations.map((op) => ({
      operationId: op.OperationId ?? '',
      action: op.Action ?? '',
      status: op.Status ?? '',
      ...(nonEmpty(op.StatusReason) ? { reason: op.StatusReason } : {}),
    })),
    rows: sorted,
    totals: totalsOf(sorted),
    timedOut: obs.timedOut,
    ...(obs.error !== undefined ? { error: obs.error } : {}),
    ...(obs.note !== undefined ? { note: obs.note } : {}),
  };
}

function row(
  stackSet: string,
  account: string | undefined,
  region: string | undefined,
  status: string,
  reason: string | undefined,
): InstanceRow {
  return {
    stackSet,
    account: account ?? '?',
    region: region ?? '?',
    status,
    outcome: outcomeOf(status),
    ...(reason ? { reason } : {}),
  };
}

function outcomeOf(status: string): InstanceOutcome {
  if (FAILED_INSTANCE.has(status)) return 'failed';
  if (SUCCEEDED_INSTANCE.has(status)) return 'succeeded';
  if (status === 'RUNNING' || status === 'PENDING' || status === 'OUTDATED') return 'in-progress';
  return 'other';
}

function totalsOf(rows: readonly InstanceRow[]): Totals {
  const count = (o: InstanceOutcome) => rows.filter((r) => r.outcome === o).length;
  return {
    instances: rows.length,
    succeeded: count('succeeded'),
    failed: count('failed'),
    inProgress: count('in-progress'),
    other: count('other'),
  };
}

function keyOf(account: string | undefined, region: string | undefined): string {
  return `${account ?? '?'}|${region ?? '?'}`;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text && text.trim() !== '' ? text : undefined;
}
