import { normalizeRegistryUrl } from '../falcon/url.js';
import type { OwnershipRecord } from '../ecr/ownership.js';
import { ecrRegistryUrl } from '../ecr/urls.js';
import { cellOf } from './cells.js';
import type { CoverageCell, CoverageItem, RegistryConnectionInfo } from './model.js';

/**
 * Connection states in which Falcon does not assess the registry's images. Falcon documents `state` as
 * a free string; any state not matching this is taken as working (a new connection is "pending" until
 * its first scan, and is connected).
 */
const BROKEN_STATE = /paus|disabl|error|fail|invalid|disconnect|expired|denied|unauthori/i;

export interface EcrRegionFacts {
  readonly accountId: string;
  readonly region: string;
  /** The tenant's connections, indexed by normalized URL; or why they could not be read. */
  readonly connections: ReadonlyMap<string, RegistryConnectionInfo> | { readonly unreadable: string };
  /** This deployment's ownership record in the account; undefined = none; string = unreadable. */
  readonly ownership: OwnershipRecord | undefined | { readonly unreadable: string };
  readonly deploymentId: string;
}

/** Indexes connections by normalized registry URL (one read of the tenant serves every account). */
export function indexConnections(
  connections: readonly RegistryConnectionInfo[],
): ReadonlyMap<string, RegistryConnectionInfo> {
  const map = new Map<string, RegistryConnectionInfo>();
  for (const c of connections) map.set(normalizeRegistryUrl(c.url), c);
  return map;
}

/**
 * The account's registry in the region is protected when Falcon has a connection for its URL in a
 * working state. Whether this deployment owns the connection is a fact (and a reason when it does not:
 * someone else made it and may remove it), not a protection state.
 */
export function judgeEcrRegion(facts: EcrRegionFacts): CoverageCell {
  const where = { accountId: facts.accountId, region: facts.region, feature: 'ecrConnections' as const };
  const url = ecrRegistryUrl(facts.accountId, facts.region);
  const base = { kind: 'registry' as const, id: url };
  if ('unreadable' in facts.connections) {
    const item: CoverageItem = {
      ...base,
      state: 'unknown',
      reasons: [
        {
          code: 'falcon-unreadable',
          text: `Falcon's registry connections could not be read: ${String(facts.connections.unreadable)}`,
        },
      ],
      facts: {},
    };
    return cellOf(where, [item], [], 'registry');
  }
  const connection = facts.connections.get(normalizeRegistryUrl(url));
  if (connection === undefined) {
    const item: CoverageItem = {
      ...base,
      state: 'unprotected',
      reasons: [
        {
          code: 'no-connection',
          text: 'No Falcon registry connection for this registry. Enable ECR connections for the region (features.ecrConnections.regions) and deploy, or wait for the scheduled repair.',
        },
      ],
      facts: {},
    };
    return cellOf(where, [item], [], 'registry');
  }
  const ownership = facts.ownership;
  const owned =
    ownership === undefined
      ? false
      : 'unreadable' in ownership
        ? 'unknown'
        : ownership.deploymentId === facts.deploymentId &&
          ownership.connections[facts.region] === connection.id;
  const state = connection.state ?? 'not reported';
  const itemFacts = { connectionId: connection.id, connectionState: state, ownedByThisDeployment: owned };
  const ownerReason =
    owned === false
      ? [
          {
            code: 'connection-not-owned' as const,
            text: 'The connection was not created by this deployment; it stays if falcon-org is removed, and its owner may remove it.',
          },
        ]
      : [];
  if (BROKEN_STATE.test(state)) {
    const item: CoverageItem = {
      ...base,
      state: 'unprotected',
      reasons: [
        {
          code: 'connection-state',
          text: `The registry connection is "${state}", so Falcon does not assess its images. Check the connection role and external ID, then resume the connection in Falcon.`,
        },
        ...ownerReason,
      ],
      facts: itemFacts,
    };
    return cellOf(where, [item], [], 'registry');
  }
  const item: CoverageItem = {
    ...base,
    state: 'protected',
    reasons: [{ code: 'connected', text: `Connected (state "${state}").` }, ...ownerReason],
    facts: itemFacts,
  };
  return cellOf(where, [item], ownerReason, 'registry');
}
