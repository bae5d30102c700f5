/**
 * Whether an eligible cluster gets a deployer run, and why (or why not). Pure: discovery and the
 * event handler read the cluster's runs-table item, compute the desired state from the deployer's
 * settings (src/cluster/desired-state.ts) and ask this module. A run is started only when
 * - a run was asked for (an event, or a follow-up an event left while another run held the lock);
 * - the cluster was never protected (no desired state recorded);
 * - its last install run failed or was not reachable and the backoff has elapsed;
 * - the desired state changed since the last good run;
 * - coverage says its nodes do not (or only partly) report, again after the same backoff.
 * Otherwise the cluster is "up to date since …" or "backing off until …".
 */
import { exponentialCeiling } from '../shared/backoff.js';
import type { DesiredState, RunResult } from './run-contract.js';
import type { RunsTableItem } from './runs-table.js';
import { FAILED_OUTCOMES } from './run-state.js';

export const RUN_DECISION_CODES = {
  requested: 'requested',
  neverProtected: 'never-protected',
  retry: 'retry',
  backingOff: 'backing-off',
  changed: 'changed',
  repair: 'repair',
  upToDate: 'up-to-date',
  /** Wanted a run, but CodeBuild was at the pace's limit (src/eks/pace-runs.ts): the next look starts it. */
  deferred: 'deferred',
} as const;
export type RunDecisionCode = (typeof RUN_DECISION_CODES)[keyof typeof RUN_DECISION_CODES];

export interface RunDecision {
  readonly build: boolean;
  readonly code: RunDecisionCode;
  /** For people: "up to date since …", "backing off until …". */
  readonly reason: string;
}

/** The capped exponential backoff of failing clusters and of coverage repairs. */
export interface RetryBackoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RETRY: RetryBackoff = { firstMs: 60 * 60_000, maxMs: 24 * 60 * 60_000 };

/** What coverage last said about the cluster's nodes (src/coverage/eks.ts cells). */
export type CoverageSignal = 'reporting' | 'not-reporting' | 'partial';

export interface DecisionInput {
  /** The cluster's runs-table item (absent: never seen). */
  readonly item: RunsTableItem | undefined;
  /** The desired state for the cluster's compute as the settings say now. */
  readonly desired: DesiredState;
  readonly now: number;
  readonly retry?: RetryBackoff;
  /** A run asked for right now (an event, the CLI): the reason. */
  readonly requested?: string;
  /** When coverage reports EKS: what it said about this cluster in the last report. */
  readonly coverage?: CoverageSignal;
}

export function decideRun(input: DecisionInput): RunDecision {
  const { item, desired, now } = input;
  const retry = input.retry ?? DEFAULT_RETRY;
  if (input.requested !== undefined) return build('requested', `run asked for: ${input.requested}`);
  const followUp = pendingFollowUp(item);
  if (followUp) {
    return build(
      'requested',
      `follow-up asked for at ${followUp.at} while another run held the lock (${followUp.reason})`,
    );
  }
  const last = item?.lastRun;
  if (last && last.mode === 'install' && FAILED_OUTCOMES.includes(last.outcome)) {
    const streak = Math.max(1, item?.failureStreak ?? 1);
    const until = Date.parse(last.finishedAt) + exponentialCeiling(streak, retry.firstMs, retry.maxMs);
    const why = `${streak} failed run${streak === 1 ? '' : 's'} in a row, the last ${last.outcome}${last.reason ? `: ${last.reason}` : ''}`;
    if (Number.isFinite(until) && now < until) {
      return skip('backing-off', `backing off until ${iso(until)} after ${why}`);
    }
    return build('retry', `trying again after ${why}`);
  }
  const state = item?.protectedState;
  if (!state) {
    return build(
      'never-protected',
      last ? `no desired state recorded since the last run (${last.outcome})` : 'never protected',
    );
  }
  if (state.fingerprint !== desired.fingerprint) {
    return build('changed', `desired state changed since ${state.at} (${changes(state, desired)})`);
  }
  if (input.coverage === 'not-reporting' || input.coverage === 'partial') {
    const what = input.coverage === 'partial' ? 'only some nodes report' : 'its nodes do not report';
    const streak = item?.repairStreak ?? 0;
    const since = item?.lastTrigger?.at;
    if (streak > 0 && since !== undefined) {
      const until = Date.parse(since) + exponentialCeiling(streak, retry.firstMs, retry.maxMs);
      if (Number.isFinite(until) && now < until) {
        return skip(
          'backing-off',
          `coverage says ${what}; backing off until ${iso(until)} after ${streak} repair run${streak === 1 ? '' : 's'}`,
        );
      }
    }
    return build('repair', `coverage says ${what} (up to date since ${state.at})`);
  }
  return skip(
    'up-to-date',
    `up to date since ${state.at} (run ${state.runId}, operator ${state.operatorVersion})`,
  );
}

/** A follow-up an event recorded while a run held the lock, not yet served by a later run. */
export function pendingFollowUp(
  item: RunsTableItem | undefined,
): { readonly at: string; readonly reason: string } | undefined {
  const followUp = item?.followUp;
  if (!followUp) return undefined;
  // Served once a run that started after the request has finished.
  const served = (run: RunResult | undefined) => run !== undefined && run.startedAt >= followUp.at;
  return served(item.lastRun) ? undefined : followUp;
}

function changes(from: DesiredState, to: DesiredState): string {
  const parts: string[] = [];
  if (from.operatorVersion !== to.operatorVersion)
    parts.push(`operator ${from.operatorVersion} → ${to.operatorVersion}`);
  if (from.compute !== to.compute) parts.push(`compute ${from.compute} → ${to.compute}`);
  return parts.length > 0 ? parts.join(', ') : 'settings that reach the cluster';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function build(code: RunDecisionCode, reason: string): RunDecision {
  return { build: true, code, reason };
}

function skip(code: RunDecisionCode, reason: string): RunDecision {
  return { build: false, code, reason };
}
