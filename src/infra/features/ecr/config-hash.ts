import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../../../config/load.js';

/**
 * A short digest of every setting the `ecr-connect` reconcile depends on (besides the properties the
 * custom resource carries itself). It goes into the custom resource's `ConfigHash`, so changing one
 * of them makes CloudFormation send an Update, which re-runs the reconcile. Holds no secret: the
 * credentials are not part of it.
 */
export function ecrConfigHash(config: ResolvedConfig): string {
  const ecr = config.features.ecrConnections;
  const inputs = {
    partition: config.aws.partition,
    homeRegion: config.aws.homeRegion,
    cloud: config.falcon.cloud,
    baseUrl: config.falcon.baseUrl ?? null,
    govFalconFromCommercialAws: config.derived.govFalconFromCommercialAws,
    regions: [...config.derived.ecrRegions].sort(),
    disconnectOnDelete: ecr.disconnectOnDelete,
    permissionsBoundary: config.permissionsBoundary ?? null,
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}
