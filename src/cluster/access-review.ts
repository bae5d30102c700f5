/**
 * Proving that the deployer may make the writes a run needs before it makes the first one. A read
 * is no proof: an access entry that is not ours may already carry a read-only policy
 * (AmazonEKSViewPolicy), so reads succeed at once while the cluster admin policy this run
 * associated is still propagating, and the first write would fail with 403. A
 * SelfSubjectAccessReview per verb and resource asks the API server what this principal may do
 * now; any authenticated user may create one.
 */
import { FALCON_API_VERSION, FALCON_KINDS, SECRET_NAME, SECRET_NAMESPACE } from './custom-resources.js';
import { KubeApiError } from './errors.js';
import type { KubeClient } from './kube-client.js';
import type { KubeObject, ResourceAttributes, ResourceMap } from './kube-resources.js';
import { pollUntil, type DeployerClock } from './wait.js';

export const SELF_SUBJECT_ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

/** One question: may I `verb` this resource? */
export interface AccessCheck extends ResourceAttributes {
  readonly verb: string;
}

/**
 * The writes a run makes: server-side apply (create and patch) of every operator object, the
 * credentials Secret and the Falcon custom resources, and deleting custom resources a
 * configuration no longer wants; an uninstall deletes all of them. One check per distinct verb,
 * group, resource and namespace.
 */
export function requiredAccess(
  mode: 'install' | 'uninstall',
  operatorObjects: readonly KubeObject[],
  resources: ResourceMap,
): AccessCheck[] {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRET_NAME, namespace: SECRET_NAMESPACE },
  };
  const crs = FALCON_KINDS.map(({ kind, name }) => ({
    apiVersion: FALCON_API_VERSION,
    kind,
    metadata: { name },
  }));
  const written = [...operatorObjects, secret, ...crs].map((o) => resources.resourceOf(o));
  const checks: AccessCheck[] = [];
  const seen = new Set<string>();
  const add = (verb: string, attributes: ResourceAttributes) => {
    const key = [verb, attributes.group, attributes.resource, attributes.namespace ?? ''].join('|');
    if (seen.has(key)) return;
    seen.add(key);
    checks.push({ verb, ...attributes });
  };
  for (const attributes of written) {
    if (mode === 'uninstall') add('delete', attributes);
    else {
      add('create', attributes);
      add('patch', attributes);
    }
  }
  if (mode === 'install') for (const cr of crs) add('delete', resources.resourceOf(cr));
  return checks;
}

/**
 * Waits until the API server allows every check (401/403 on the review itself, or a review that
 * is not allowed, mean the access entry or its policy is still propagating), up to the deadline.
 */
export async function waitForAccess(
  kube: KubeClient,
  checks: readonly AccessCheck[],
  clock: DeployerClock,
  deadlineSeconds: number,
): Promise<void> {
  await pollUntil(
    clock,
    { what: 'Kubernetes access through the new access entry', deadlineSeconds, initialDelayMs: 2000 },
    async () => {
      for (const check of checks) {
        const seen = await review(kube, check);
        if (seen !== undefined) return { done: false, seen };
      }
      return { done: true, seen: 'ok' };
    },
  );
}

/** Undefined when allowed, else what was seen. */
async function review(kube: KubeClient, check: AccessCheck): Promise<string | undefined> {
  const { verb, group, resource, namespace } = check;
  const response = await kube.raw({
    method: 'POST',
    path: SELF_SUBJECT_ACCESS_REVIEWS,
    contentType: 'application/json',
    body: JSON.stringify({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb, group, resource, ...(namespace ? { namespace } : {}) } },
    }),
  });
  if (response.status === 401 || response.status === 403) return `HTTP ${response.status}`;
  if (response.status !== 200 && response.status !== 201) {
    throw new KubeApiError(`POST ${SELF_SUBJECT_ACCESS_REVIEWS}`, response.status, '');
  }
  const status = (response.body as { status?: { allowed?: unknown; reason?: unknown } } | undefined)?.status;
  if (status?.allowed === true) return undefined;
  const what = `${verb} ${group ? `${resource}.${group}` : resource}${namespace ? ` in ${namespace}` : ''}`;
  return `not yet allowed to ${what}${typeof status?.reason === 'string' && status.reason ? ` (${status.reason})` : ''}`;
}
