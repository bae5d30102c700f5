import { z } from 'zod';

/*
 * Settings of the EKS deployer (the program a CodeBuild run executes against one cluster).
 * Kept in a file of its own so the deployer's settings can grow without touching the rest of the
 * schema; wired in as `features.eksProtection.deployer`. Messages follow the schema's "expected …"
 * convention (the loader prefixes the path and appends what was given).
 */
export const eksDeployerSchema = z.strictObject({
  keepAccessEntry: z
    .boolean()
    .default(false)
    .describe('Keep the deployer access entry on the cluster after a run (default: removed)'),
});

export type EksDeployerConfig = z.output<typeof eksDeployerSchema>;
