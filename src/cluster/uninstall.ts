import { FIELD_MANAGER, MANAGED_LABEL } from './apply.js';
import { FALCON_API_VERSION, FALCON_KINDS, SECRET_NAME, SECRET_NAMESPACE } from './custom-resources.js';
import type { KubeClient } from './kube-client.js';
import type { KubeObject, ResourceMap } from './kube-resources.js';
import { inApplyOrder } from './manifest.js';
import { registerCrds } from './operator.js';
import type { RunComponent } from '../eks/run-contract.js';
import { pollUntil, type DeployerClock } from './wait.js';

/**
 * Removes what the deployer installed, in the only safe order: the Falcon custom resources first,
 * waiting until the operator has cleaned up their sensors and released them; then the credentials
 * Secret; then the operator's own objects in reverse dependency order (Deployment, RBAC, CRDs,
 * namespace). Deleting the operator first would leave sensors running with nobody to remove them.
 */
export async function uninstallFalcon(
  kube: KubeClient,
  resources: ResourceMap,
  operatorObjects: readonly KubeObject[],
  clock: DeployerClock,
  deadlineSeconds: number,
): Promise<RunComponent[]> {
  registerCrds(resources, operatorObjects);
  const components: RunComponent[] = [];
  const crs = FALCON_KINDS.map(({ kind, name }) => ({
    apiVersion: FALCON_API_VERSION,
    kind,
    metadata: { name },
  }));
  const deleted: KubeObject[] = [];
  for (const cr of crs) {
    const path = resources.pathOf(cr);
    if (await kube.delete(path)) deleted.push(cr);
  }
  for (const cr of deleted) {
    const path = resources.pathOf(cr);
    await pollUntil(
      clock,
      { what: `the operator to remove ${cr.kind} ${cr.metadata.name}`, deadlineSeconds },
      async () => {
        const current = await kube.get(path);
        const since = current?.metadata['deletionTimestamp'];
        return {
          done: current === undefined,
          seen: current ? `still present (deleting since ${String(since)})` : 'gone',
        };
      },
    );
    components.push({ name: cr.kind, status: 'removed' });
  }
  await kube.delete(
    resources.pathOf({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SECRET_NAME, namespace: SECRET_NAMESPACE },
    }),
  );
  const reversed = inApplyOrder(operatorObjects).reverse();
  let removed = 0;
  for (const object of reversed) {
    const path = resources.pathOf(object);
    const current = await kube.get(path);
    // Only what this deployer applied; an operator installed by someone else stays.
    if (current?.metadata.labels?.[MANAGED_LABEL] !== FIELD_MANAGER) continue;
    if (await kube.delete(path)) removed++;
  }
  components.push({ name: 'operator', status: removed > 0 ? 'removed' : 'skipped' });
  return components;
}
