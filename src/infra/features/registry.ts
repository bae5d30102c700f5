import type { FeatureName } from '../metadata.js';
import { EcrConnections } from './ecr-connections.js';
import { EksProtection } from './eks-protection.js';
import type { FeatureFactory } from './feature.js';
import { SsmDistributor } from './ssm-distributor.js';

/**
 * The extension point: one entry per implemented feature. A feature that is enabled in the
 * configuration but has no entry here is reported by `plan` as "not implemented in this version"
 * and deploys nothing. To add one, write `features/<name>.ts` exporting a construct that takes a
 * `FeatureContext`, and add a line here, e.g.
 * `ecrConnections: (scope, ctx) => new EcrConnections(scope, 'EcrConnections', ctx),`
 */
export const FEATURE_FACTORIES: Readonly<Partial<Record<FeatureName, FeatureFactory>>> = {
  ssmDistributor: (scope, context) => new SsmDistributor(scope, 'SsmDistributor', context),
  ecrConnections: (scope, ctx) => new EcrConnections(scope, 'EcrConnections', ctx),
  eksProtection: (scope, ctx) => new EksProtection(scope, 'EksProtection', ctx),
};
