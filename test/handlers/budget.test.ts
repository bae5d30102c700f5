import { describe, expect, it } from 'vitest';
import { budgetOf, HAND_ON_RESERVE, invocationBudget } from '../../src/handlers/shared/budget.js';

describe('invocation budget', () => {
  it('reserves a quarter of the remaining time (at most 15 s) for answering', () => {
    expect(budgetOf(2000).workMs).toBe(1500);
    expect(budgetOf(900_000).workMs).toBe(885_000);
    expect(invocationBudget({ getRemainingTimeInMillis: () => 900_000 })).toEqual({
      remainingMs: 900_000,
      reserveMs: 15_000,
      workMs: 885_000,
    });
  });

  it('keeps at least 30 s (or a quarter) back to hand unstarted work on, and never goes below zero', () => {
    expect(budgetOf(900_000, HAND_ON_RESERVE)).toEqual({
      remainingMs: 900_000,
      reserveMs: 225_000,
      workMs: 675_000,
    });
    expect(budgetOf(60_000, HAND_ON_RESERVE).workMs).toBe(30_000);
    expect(budgetOf(20_000, HAND_ON_RESERVE).workMs).toBe(0);
    expect(budgetOf(1_000, (remaining) => remaining - 60).workMs).toBe(60);
  });
});
