/**
 * A cluster's desired state: everything a deployer run puts on one cluster, reduced to a
 * fingerprint. The deployer computes it for the run it makes and writes it to the runs table when
 * the run leaves the cluster protected; discovery and the run pacer compute it from the same
 * settings (the project's `PROJECT_ENV.settings`, which the functions get too) and build a cluster
 * only when the two differ. This module is the one place both sides take it from.
 *
 * What goes in: the operator release (version and manifest checksum), the custom resources as the
 * deployer renders them for the compute mode (cloud, sensor backend, admission, injection), the
 * compute mode, the CID, whether the access entry stays, image mirroring (prefix, pinned tags, the
 * home registry and who may pull), the pinned version of the clusters' Falcon client secret, and the
 * rollout generation. What stays out: what only shapes the run, not the cluster (deadlines, the
 * manifest's location, the API base URL, egress settings: the allow-list is put back after each run).
 *
 * @example
 * const desired = desiredState(settings, 'mixed');
 * if (item.protectedState?.fingerprint !== desired.fingerprint) queueRun(...);
 */
import { createHash } from 'node:crypto';
import type { ComputeMode, DesiredState } from '../eks/run-contract.js';
import { falconCustomResources } from './custom-resources.js';
import type { DeployerRunSettings } from './settings.js';

/** Bumped when what the fingerprint covers changes meaning (every cluster is then rebuilt once). */
const FINGERPRINT_VERSION = 1;

export function desiredState(settings: DeployerRunSettings, compute: ComputeMode): DesiredState {
  const mirror = settings.mirrorImages;
  const reaching = {
    version: FINGERPRINT_VERSION,
    operator: { version: settings.operator.version, manifestSha256: settings.operator.manifestSha256 },
    compute,
    // Rendered without image overrides: which image a mirror resolves to is a run-time answer of the
    // registry; the mirror settings below are what the configuration decides.
    customResources: falconCustomResources(compute, settings),
    cid: settings.falcon.cid ?? null,
    keepAccessEntry: settings.keepAccessEntry,
    mirror: mirror.enabled
      ? {
          repositoryPrefix: mirror.repositoryPrefix,
          tags: mirror.tags,
          pullOrganizationId: mirror.pullOrganizationId ?? null,
          registry: `${settings.homeAccountId}/${settings.homeRegion}`,
        }
      : null,
    credentialsVersion: settings.rollout?.credentialsVersion ?? null,
    generation: settings.rollout?.generation ?? 0,
  };
  const digest = createHash('sha256')
    .update(`falcon-org eks desired state\n${canonicalJson(reaching)}`)
    .digest('hex');
  return { fingerprint: digest.slice(0, 32), operatorVersion: settings.operator.version, compute };
}

/**
 * JSON with object keys sorted at every level, so the fingerprint depends on content, not on the
 * order code happens to build objects in. Written here (ten lines) rather than taken from a package:
 * the values are plain JSON data made by this project, with no cycles, dates or special numbers.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
