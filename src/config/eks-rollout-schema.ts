import { z } from 'zod';

/*
 * How EKS Protection rolls deployer runs out over the organization (`features.eksProtection.rollout`):
 * how many CodeBuild builds it keeps going, how long it waits before trying a failing cluster again,
 * and a generation number that rebuilds every cluster once when raised. Kept in a file of its own,
 * wired in from schema.ts. Messages follow the schema's "expected …" convention.
 */

const minutes = (min: number, max: number, what: string) =>
  z
    .number({ message: `expected ${what} in whole minutes from ${min} to ${max}` })
    .int({ message: `expected ${what} in whole minutes from ${min} to ${max}` })
    .min(min, { message: `expected ${what} of at least ${min} minutes` })
    .max(max, { message: `expected ${what} of at most ${max} minutes` });

/** The capped exponential backoff of a cluster whose runs keep failing (also of coverage repairs). */
export const DEFAULT_RETRY_BACKOFF = { firstMinutes: 60, maxMinutes: 1440 } as const;

const retrySchema = z
  .strictObject({
    firstMinutes: minutes(5, 1440, 'the first wait').default(DEFAULT_RETRY_BACKOFF.firstMinutes),
    maxMinutes: minutes(5, 10080, 'the longest wait').default(DEFAULT_RETRY_BACKOFF.maxMinutes),
  })
  .refine((r) => r.maxMinutes >= r.firstMinutes, {
    message: 'expected maxMinutes to be at least firstMinutes',
    path: ['maxMinutes'],
  })
  .describe(
    'After a failed or not-reachable run, the next sweep waits firstMinutes, doubling per failure up to maxMinutes; a good run resets it',
  );

export const eksRolloutSchema = z.strictObject({
  concurrentBuilds: z
    .number({ message: 'expected a whole number of builds from 1 to 10000' })
    .int({ message: 'expected a whole number of builds from 1 to 10000' })
    .min(1, { message: 'expected at least 1 build' })
    .max(10_000, { message: 'expected at most 10000 builds' })
    .optional()
    .describe(
      "Concurrent deployer builds to pace to; default: the home account's CodeBuild quota 'Concurrently running builds for Linux/Small environment' read from Service Quotas",
    ),
  retry: retrySchema.prefault({}),
  generation: z
    .number({ message: 'expected a whole number ≥ 0' })
    .int({ message: 'expected a whole number ≥ 0' })
    .min(0, { message: 'expected a whole number ≥ 0' })
    .default(0)
    .describe('Part of every cluster\u2019s desired state: raise it to rebuild every cluster once'),
});

export type EksRolloutConfig = z.output<typeof eksRolloutSchema>;
