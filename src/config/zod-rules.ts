import { z } from 'zod';
import { scheduleProblem, type ScheduleRules } from './patterns.js';

/*
 * Small zod building blocks shared by the schema files. Every message starts with "expected …": the
 * loader prefixes the path and appends what was given.
 */

/** A schedule expression State Manager or EventBridge accepts, under the given rules. */
export function schedule(rules: ScheduleRules) {
  return z.string().superRefine((value, ctx) => {
    const problem = scheduleProblem(value, rules);
    if (problem) ctx.addIssue({ code: 'custom', message: `expected a valid schedule: ${problem}` });
  });
}

/** A string matching `re`; `what` completes "expected …". */
export const pattern = (re: RegExp, what: string) => z.string().regex(re, { message: `expected ${what}` });
