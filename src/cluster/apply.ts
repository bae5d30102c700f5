import type { KubeClient } from './kube-client.js';
import { describeObject, type KubeObject, type ResourceMap } from './kube-resources.js';
import { sha256Hex } from './manifest.js';

export const FIELD_MANAGER = 'falcon-org';
export const HASH_ANNOTATION = 'falcon-org.crowdstrike.com/applied-hash';
export const VERSION_ANNOTATION = 'falcon-org.crowdstrike.com/operator-version';
export const MANAGED_LABEL = 'app.kubernetes.io/managed-by';

/** JSON with sorted keys, so the same object always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface ApplyOutcome {
  readonly object: KubeObject;
  readonly path: string;
  readonly changed: boolean;
}

/**
 * Server-side applies one object unless the cluster already holds exactly this desired state
 * (same hash annotation): a re-run reads and writes nothing. The hash covers the desired object
 * as we would send it, so an upgrade applies only the objects whose content changed.
 */
export async function applyIfChanged(
  kube: KubeClient,
  resources: ResourceMap,
  desired: KubeObject,
  extraAnnotations: Readonly<Record<string, string>> = {},
  sensitive = false,
): Promise<ApplyOutcome> {
  const path = resources.pathOf(desired);
  // For Secrets the hash would be a digest of the credentials: compare the data itself instead.
  const hash = sensitive ? undefined : sha256Hex(canonicalJson(desired));
  const existing = await kube.get(path);
  if (existing) {
    if (hash !== undefined && existing.metadata.annotations?.[HASH_ANNOTATION] === hash) {
      return { object: existing, path, changed: false };
    }
    if (sensitive && canonicalJson(existing['data']) === canonicalJson(desired['data'])) {
      return { object: existing, path, changed: false };
    }
  }
  const object: KubeObject = {
    ...desired,
    metadata: {
      ...desired.metadata,
      labels: { ...desired.metadata.labels, [MANAGED_LABEL]: FIELD_MANAGER },
      annotations: {
        ...desired.metadata.annotations,
        ...extraAnnotations,
        ...(hash !== undefined ? { [HASH_ANNOTATION]: hash } : {}),
      },
    },
  };
  const applied = await kube.apply(path, object, FIELD_MANAGER);
  return { object: applied, path, changed: true };
}

export { describeObject };
