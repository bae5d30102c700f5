import { describeConditions, isTrue } from './conditions.js';
import type { KubeClient } from './kube-client.js';
import type { KubeObject, ResourceMap } from './kube-resources.js';
import { pollUntil, type DeployerClock } from './wait.js';

/** Where each custom resource's workload runs (the operator's defaults). */
const WORKLOADS: Readonly<Record<string, { path: string; kind: 'DaemonSet' | 'Deployment'; name: string }>> =
  {
    FalconNodeSensor: {
      path: '/apis/apps/v1/namespaces/falcon-system/daemonsets/falcon-node-sensor',
      kind: 'DaemonSet',
      name: 'falcon-system/falcon-node-sensor',
    },
    FalconContainer: {
      path: '/apis/apps/v1/namespaces/falcon-system/deployments/falcon-sidecar-injector',
      kind: 'Deployment',
      name: 'falcon-system/falcon-sidecar-injector',
    },
    FalconAdmission: {
      path: '/apis/apps/v1/namespaces/falcon-kac/deployments/falcon-kac',
      kind: 'Deployment',
      name: 'falcon-kac/falcon-kac',
    },
  };

interface DaemonSetStatus {
  status?: { desiredNumberScheduled?: number; numberReady?: number };
}

/**
 * Waits until each custom resource reports Success and its workload runs: every desired
 * node-sensor pod ready, the injector / admission Deployment Available. On timeout the error names
 * the deadline and the last condition seen. Returns the sensor version each resource reports.
 */
export async function verifySensors(
  kube: KubeClient,
  resources: ResourceMap,
  crs: readonly KubeObject[],
  clock: DeployerClock,
  deadlineSeconds: number,
): Promise<Map<string, string | undefined>> {
  const versions = new Map<string, string | undefined>();
  for (const cr of crs) {
    const path = resources.pathOf(cr);
    const current = await pollUntil(
      clock,
      { what: `${cr.kind} ${cr.metadata.name} to report Success`, deadlineSeconds },
      async () => {
        const object = await kube.get(path);
        return {
          done: isTrue(object, 'Success'),
          value: object,
          seen: object ? describeConditions(object) : 'not found',
        };
      },
    );
    versions.set(cr.kind, (current?.['status'] as { sensor?: string } | undefined)?.sensor);
    const workload = WORKLOADS[cr.kind];
    if (!workload) continue;
    await pollUntil(
      clock,
      { what: `${workload.kind} ${workload.name} to be ready`, deadlineSeconds },
      async () => {
        const object = await kube.get(workload.path);
        if (!object) return { done: false, seen: 'not created yet' };
        if (workload.kind === 'Deployment') {
          return { done: isTrue(object, 'Available'), seen: describeConditions(object) };
        }
        const s = (object as DaemonSetStatus).status ?? {};
        const desired = s.desiredNumberScheduled ?? 0;
        const ready = s.numberReady ?? 0;
        return { done: ready === desired, seen: `${ready} of ${desired} pods ready` };
      },
    );
  }
  return versions;
}
