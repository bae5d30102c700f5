import { deploymentRolledOut, describeConditions, isTrueForCurrentSpec } from './conditions.js';
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

interface DaemonSetState {
  metadata?: { generation?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
  };
}

/**
 * A DaemonSet has rolled out when its controller has observed the current spec (observedGeneration)
 * and every desired pod is both updated to it and ready. Without the generation check a DaemonSet
 * the controller has not looked at yet (0 of 0) counts as ready; without updatedNumberScheduled an
 * upgrade counts the old sensor pods as ready.
 */
export function daemonSetRolledOut(object: unknown): { done: boolean; seen: string } {
  const { metadata = {}, status = {} } = (object ?? {}) as DaemonSetState;
  if (metadata.generation !== undefined && (status.observedGeneration ?? 0) < metadata.generation) {
    return { done: false, seen: `generation ${metadata.generation} not observed yet` };
  }
  const desired = status.desiredNumberScheduled ?? 0;
  const ready = status.numberReady ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  return {
    done: ready === desired && updated === desired,
    seen: `${ready} of ${desired} pods ready, ${updated} updated`,
  };
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
          done: isTrueForCurrentSpec(object, 'Success'),
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
          return deploymentRolledOut(object);
        }
        return daemonSetRolledOut(object);
      },
    );
  }
  return versions;
}
