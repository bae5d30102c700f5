/*
 * The one rule for how much of an invocation the work may spend and how much is kept back for what
 * must still happen after it (answering CloudFormation, handing unstarted work on to a queue). Every
 * handler asks here; the reserves are named, not re-derived at each call site.
 */
import type { LambdaContext } from './lambda.js';

/**
 * What is kept back of the remaining time: a fraction of it, bounded below and/or above; or, where a
 * caller (a test) needs an exact figure, a function of the remaining time.
 */
export type Reserve =
  | { readonly fraction: number; readonly minMs?: number; readonly maxMs?: number }
  | ((remainingMs: number) => number);

/** To answer CloudFormation after the work: a quarter of the remaining time, at most 15 s. */
export const ANSWER_RESERVE: Reserve = { fraction: 1 / 4, maxMs: 15_000 };

/**
 * To stop starting accounts and still finish the ones in flight, queue the rest and answer: a quarter of
 * the remaining time, at least 30 s.
 */
export const HAND_ON_RESERVE: Reserve = { fraction: 1 / 4, minMs: 30_000 };

export interface InvocationBudget {
  /** What was left of the invocation when the budget was taken. */
  readonly remainingMs: number;
  /** What is kept back for after the work. */
  readonly reserveMs: number;
  /** What the work may spend: the remaining time less the reserve, never below zero. */
  readonly workMs: number;
}

/** The budget of an invocation from now on, keeping `reserve` back (by default, time to answer CloudFormation). */
export function invocationBudget(
  context: Pick<LambdaContext, 'getRemainingTimeInMillis'>,
  reserve: Reserve = ANSWER_RESERVE,
): InvocationBudget {
  const remainingMs = context.getRemainingTimeInMillis();
  return budgetOf(remainingMs, reserve);
}

/** The same rule for a remaining time already read. */
export function budgetOf(remainingMs: number, reserve: Reserve = ANSWER_RESERVE): InvocationBudget {
  const reserveMs =
    typeof reserve === 'function'
      ? reserve(remainingMs)
      : Math.min(
          reserve.maxMs ?? Infinity,
          Math.max(reserve.minMs ?? 0, Math.floor(remainingMs * reserve.fraction)),
        );
  return { remainingMs, reserveMs, workMs: Math.max(0, remainingMs - reserveMs) };
}
