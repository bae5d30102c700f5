import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { ManifestError } from './errors.js';
import type { KubeObject } from './kube-resources.js';

/** Where the pinned manifest comes from (the artifact bucket in production). */
export interface ManifestSource {
  read(bucket: string, key: string): Promise<Uint8Array>;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Checks the manifest's SHA-256 against the pinned value BEFORE parsing it, then splits the
 * multi-document YAML into objects. Nothing reaches the cluster when the checksum differs.
 */
export function parseOperatorManifest(
  bytes: Uint8Array,
  expectedSha256: string,
  version: string,
): KubeObject[] {
  const actual = sha256Hex(bytes);
  if (actual !== expectedSha256) {
    throw new ManifestError(
      `operator manifest ${version}: SHA-256 is ${actual}, expected ${expectedSha256}; nothing was applied (check features.eksProtection.deployer.operator.manifestSha256 and the uploaded file)`,
    );
  }
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(Buffer.from(bytes).toString('utf8'))) {
    if (doc.errors.length > 0) {
      throw new ManifestError(`operator manifest ${version}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const object = value as Partial<KubeObject>;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || !object.metadata?.name) {
      throw new ManifestError(
        `operator manifest ${version}: a document lacks apiVersion, kind or metadata.name`,
      );
    }
    objects.push(object as KubeObject);
  }
  if (!objects.some((o) => o.kind === 'Deployment')) {
    throw new ManifestError(`operator manifest ${version}: no operator Deployment in it`);
  }
  return objects;
}

/** Apply phases: namespace, CRDs, RBAC, other configuration, then workloads. */
export const APPLY_PHASES = ['namespace', 'crd', 'rbac', 'config', 'workload'] as const;
export type ApplyPhase = (typeof APPLY_PHASES)[number];

const RBAC_KINDS = new Set(['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

export function phaseOf(object: Pick<KubeObject, 'kind'>): ApplyPhase {
  if (object.kind === 'Namespace') return 'namespace';
  if (object.kind === 'CustomResourceDefinition') return 'crd';
  if (RBAC_KINDS.has(object.kind)) return 'rbac';
  if (object.kind === 'Deployment' || object.kind === 'DaemonSet' || object.kind === 'StatefulSet')
    return 'workload';
  return 'config';
}

/** The objects in dependency order (stable within a phase). */
export function inApplyOrder(objects: readonly KubeObject[]): KubeObject[] {
  return APPLY_PHASES.flatMap((phase) => objects.filter((o) => phaseOf(o) === phase));
}
