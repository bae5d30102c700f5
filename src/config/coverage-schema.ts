import { z } from 'zod';

/*
 * Settings of the coverage report (`falcon-org status` and the scheduled `coverage` function).
 * Kept in a file of its own; wired in as the top-level `coverage` key.
 */
export const coverageSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(false)
    .describe('Deploy the read-only coverage role per account and the scheduled coverage function'),
});

export type CoverageConfig = z.output<typeof coverageSchema>;
