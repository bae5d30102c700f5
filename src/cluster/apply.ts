import type { KubeClient } from './kube-client.js';
import type { KubeObject, ResourceMap } from './kube-resources.js';

export const FIELD_MANAGER = 'falcon-org';
export const VERSION_ANNOTATION = 'falcon-org.crowdstrike.com/operator-version';
export const MANAGED_LABEL = 'app.kubernetes.io/managed-by';

export interface ApplyOutcome {
  readonly object: KubeObject;
  readonly path: string;
  /** The object was created, or the apply changed it (a new resourceVersion). */
  readonly changed: boolean;
}

/**
 * Server-side applies one object we own, every run: applying is cheap, and it is what puts back a
 * field someone edited by hand (drift) or another manager took over. Whether it changed anything
 * is read from the object's resourceVersion before and after (an apply that changes nothing keeps
 * it), so a re-run on a protected cluster still reports `already-protected`.
 */
export async function serverSideApply(
  kube: KubeClient,
  resources: ResourceMap,
  desired: KubeObject,
  extraAnnotations: Readonly<Record<string, string>> = {},
): Promise<ApplyOutcome> {
  const path = resources.pathOf(desired);
  const before = await kube.get(path);
  const object: KubeObject = {
    ...desired,
    metadata: {
      ...desired.metadata,
      labels: { ...desired.metadata.labels, [MANAGED_LABEL]: FIELD_MANAGER },
      annotations: { ...desired.metadata.annotations, ...extraAnnotations },
    },
  };
  const applied = await kube.apply(path, object, FIELD_MANAGER);
  const changed =
    before === undefined || before.metadata['resourceVersion'] !== applied.metadata['resourceVersion'];
  return { object: applied, path, changed };
}
