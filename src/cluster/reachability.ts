import type { ClusterEndpoint } from './aws-cluster.js';

export type Reachability =
  | { readonly kind: 'reachable' }
  | { readonly kind: 'widen'; readonly cidrs: readonly string[] }
  | { readonly kind: 'not-reachable'; readonly reason: string };

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Whether every address of `inner` lies inside `outer` (IPv4 CIDRs). */
export function cidrContains(outer: string, inner: string): boolean {
  const [oIp = '', oBits = '32'] = outer.split('/');
  const [iIp = '', iBits = '32'] = inner.split('/');
  const ob = Number(oBits);
  const ib = Number(iBits);
  if (ib < ob || !/^\d+\.\d+\.\d+\.\d+$/.test(oIp) || !/^\d+\.\d+\.\d+\.\d+$/.test(iIp)) return false;
  const mask = ob === 0 ? 0 : (0xffffffff << (32 - ob)) >>> 0;
  return (ipToInt(oIp) & mask) >>> 0 === (ipToInt(iIp) & mask) >>> 0;
}

/**
 * Can the deployer (outside the cluster's VPC, leaving through `egressCidrs`) reach the public
 * endpoint? Private-only clusters cannot be reached; an allow-list that excludes the egress can
 * be widened for the run only when the user allowed it.
 */
export function judgeReachability(
  cluster: ClusterEndpoint,
  egressCidrs: readonly string[],
  allowListEgress: boolean,
): Reachability {
  if (!cluster.publicAccess) {
    return {
      kind: 'not-reachable',
      reason:
        'the cluster has a private endpoint only; enable the public endpoint (an allow-list is fine) or run the deployer from inside the VPC',
    };
  }
  const allowList = cluster.publicAccessCidrs.length === 0 ? ['0.0.0.0/0'] : cluster.publicAccessCidrs;
  if (allowList.includes('0.0.0.0/0')) return { kind: 'reachable' };
  if (egressCidrs.length === 0) {
    return {
      kind: 'not-reachable',
      reason: `the public endpoint only admits ${allowList.join(', ')} and the deployer's egress address is unknown; set features.eksProtection.deployer.egressCidrs`,
    };
  }
  const missing = egressCidrs.filter((e) => !allowList.some((a) => cidrContains(a, e)));
  if (missing.length === 0) return { kind: 'reachable' };
  if (!allowListEgress) {
    return {
      kind: 'not-reachable',
      reason: `the public endpoint allow-list (${allowList.join(', ')}) excludes the deployer's egress ${missing.join(', ')}; add it, or set features.eksProtection.deployer.allowListEgress: true to add it for the run only`,
    };
  }
  return { kind: 'widen', cidrs: [...allowList, ...missing] };
}
