import type { ClusterFacts } from './cluster-facts.js';
import { OPT_OUT_TAG, type ClusterVerdict } from './run-contract.js';

/** Stable verdict codes (runs table, report, README). */
export const VERDICT_CODES = {
  eligible: 'eligible',
  noListableCompute: 'no-listable-compute',
  notActive: 'not-active',
  configMapAuth: 'config-map-auth',
  privateEndpoint: 'private-endpoint',
  unsupportedVersion: 'unsupported-version',
  optedOut: 'opted-out',
} as const;

export const DEFAULT_MIN_KUBERNETES_VERSION = '1.28';

export interface VerdictOptions {
  /** Oldest Kubernetes minor version the deployer supports. @default DEFAULT_MIN_KUBERNETES_VERSION */
  readonly minKubernetesVersion?: string;
  /**
   * A cluster being created counts as eligible when everything else is (the event path: the deployer
   * waits for ACTIVE). Discovery leaves CREATING clusters to their CreateCluster event or the next sweep.
   */
  readonly acceptCreating?: boolean;
}

/**
 * Judges whether a deployer run can protect the cluster; an opt-out tag wins, then the first
 * blocking reason, in the order a user would fix them. Every reason says what to do.
 */
export function judgeCluster(facts: ClusterFacts, options: VerdictOptions = {}): ClusterVerdict {
  const min = options.minKubernetesVersion ?? DEFAULT_MIN_KUBERNETES_VERSION;
  if (facts.optedOut) {
    // The owner's explicit choice comes before anything that could be fixed.
    return no(
      VERDICT_CODES.optedOut,
      `Tagged ${OPT_OUT_TAG.key}=${OPT_OUT_TAG.value}: left out of EKS Protection on purpose; no run is started. Remove the tag (or run falcon-org eks deploy-cluster --opt-in) to protect it.`,
    );
  }
  const creating = facts.status === 'CREATING' && options.acceptCreating === true;
  if (facts.status !== 'ACTIVE' && facts.status !== 'UPDATING' && !creating) {
    return no(
      VERDICT_CODES.notActive,
      facts.status === 'CREATING'
        ? 'The cluster is still being created; its CreateCluster event starts a run, otherwise the next discovery does once it is ACTIVE.'
        : `The cluster is ${facts.status}; nothing can be installed until it is ACTIVE. Fix or delete the cluster; discovery retries on its schedule.`,
    );
  }
  if (facts.authenticationMode === 'CONFIG_MAP') {
    return no(
      VERDICT_CODES.configMapAuth,
      'Authentication mode CONFIG_MAP has no access entries, so the deployer cannot be given access without editing aws-auth. Switch the cluster to API_AND_CONFIG_MAP (aws eks update-cluster-config --access-config authenticationMode=API_AND_CONFIG_MAP); existing aws-auth mappings keep working.',
    );
  }
  if (!facts.endpoint.public) {
    return no(
      VERDICT_CODES.privateEndpoint,
      'The API server endpoint is private only; the deployer runs outside the cluster VPC and cannot reach it. Enable public endpoint access (optionally restricted to the deployer’s egress addresses), or install the Falcon Operator from inside the VPC.',
    );
  }
  if (facts.version && compareVersions(facts.version, min) < 0) {
    return no(
      VERDICT_CODES.unsupportedVersion,
      `Kubernetes ${facts.version} is older than ${min}, the oldest version the deployer supports. Upgrade the cluster; discovery picks it up on its next run.`,
    );
  }
  if (facts.compute === 'none') {
    return {
      kind: 'eligible',
      code: VERDICT_CODES.noListableCompute,
      reason:
        'No managed node groups or Fargate profiles: self-managed nodes (Karpenter nodes too) cannot be listed by the EKS API, so the compute is unknown. A run is started with compute "none" (the deployer installs the node sensor for whatever nodes join); add a node group or Fargate profile, or check the run result, if that is not what the cluster runs.',
    };
  }
  const restricted = !facts.endpoint.publicAccessCidrs.includes('0.0.0.0/0');
  return {
    kind: 'eligible',
    code: VERDICT_CODES.eligible,
    reason: `Eligible (${facts.compute}${restricted ? `; the public endpoint admits only ${facts.endpoint.publicAccessCidrs.join(', ')}: the deployer connects from one of them, or adds its own address for the run with deployer.allowListEgress` : ''}).`,
  };
}

function no(code: string, reason: string): ClusterVerdict {
  return { kind: 'ineligible', code, reason };
}

/** Compares "1.29" / "1.29.3" numerically; a version that does not parse compares as newest. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.some(Number.isNaN) || pb.some(Number.isNaN)) return 0;
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
