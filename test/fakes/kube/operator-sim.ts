import type { Json } from './fields.js';
import type { KubeStandIn, Obj } from './server.js';

const str = (v: Json | undefined): string => (typeof v === 'string' ? v : '');

/** How the stand-in's pretend Falcon operator behaves. */
export interface OperatorSimulation {
  /** Nodes the node-sensor DaemonSet is scheduled on, and how many pods are ready. */
  nodes: number;
  readyNodes: number;
  /** Time the operator takes to remove a deleted resource's workloads. */
  cleanupAfterMs: number;
  /** A kind whose reconcile fails (condition Failed) instead of succeeding. */
  crFailure: string | undefined;
}

const OPERATOR_KEY =
  '/apis/apps/v1/namespaces/falcon-operator/deployments/falcon-operator-controller-manager';
const CR_PREFIX = '/apis/falcon.crowdstrike.com/v1alpha1/';

interface Workload {
  readonly namespace: string;
  readonly key: string;
  readonly object: Obj;
}

function workloadsOf(kind: string, standIn: KubeStandIn): Workload[] {
  const sim = standIn.operatorSim;
  const managed = { 'stand-in/managed-by-operator': 'true' };
  switch (kind) {
    case 'FalconNodeSensor':
      return [
        {
          namespace: 'falcon-system',
          key: '/apis/apps/v1/namespaces/falcon-system/daemonsets/falcon-node-sensor',
          object: {
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            metadata: {
              name: 'falcon-node-sensor',
              namespace: 'falcon-system',
              labels: managed,
              generation: 1,
            },
            status: {
              observedGeneration: 1,
              desiredNumberScheduled: sim.nodes,
              updatedNumberScheduled: sim.nodes,
              numberReady: sim.readyNodes,
              numberAvailable: sim.readyNodes,
            },
          },
        },
      ];
    case 'FalconContainer':
      return [
        {
          namespace: 'falcon-system',
          key: '/apis/apps/v1/namespaces/falcon-system/deployments/falcon-sidecar-injector',
          object: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'falcon-sidecar-injector', namespace: 'falcon-system', labels: managed },
            spec: { replicas: 2 },
          },
        },
      ];
    case 'FalconAdmission':
      return [
        {
          namespace: 'falcon-kac',
          key: '/apis/apps/v1/namespaces/falcon-kac/deployments/falcon-kac',
          object: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'falcon-kac', namespace: 'falcon-kac', labels: managed },
            spec: { replicas: 2 },
          },
        },
      ];
    default:
      return [];
  }
}

/** One reconcile pass of the pretend operator (only while its Deployment is Available). */
export function simulateOperator(standIn: KubeStandIn): void {
  const operator = standIn.store.get(OPERATOR_KEY);
  if (!operator || !standIn.deploymentAvailable(operator)) return;
  const containers = (((operator.object['spec'] as Obj)['template'] as Obj)['spec'] as Obj)[
    'containers'
  ] as Obj[];
  const image = str(containers[0]?.['image']);
  const version = image.split(':').pop() ?? 'unknown';
  const now = standIn.now();
  for (const [key, stored] of [...standIn.store]) {
    if (!key.startsWith(CR_PREFIX)) continue;
    const kind = str(stored.object['kind']);
    const workloads = workloadsOf(kind, standIn);
    if (stored.deletingSince !== undefined) {
      if (now >= stored.deletingSince + standIn.operatorSim.cleanupAfterMs) {
        for (const w of workloads) standIn.store.delete(w.key);
        standIn.store.delete(key);
        // The operator removes the namespaces it created once nothing of its own is left there.
        const remaining = [...standIn.store.keys()].filter((k) => k.startsWith(CR_PREFIX));
        const stillUsed = new Set(
          remaining.flatMap((k) =>
            workloadsOf(str(standIn.store.get(k)?.object['kind']), standIn).map((w) => w.namespace),
          ),
        );
        for (const w of workloads)
          if (!stillUsed.has(w.namespace)) standIn.remove(`/api/v1/namespaces/${w.namespace}`);
      }
      continue;
    }
    const spec = (stored.object['spec'] ?? {}) as Obj;
    const secretRef = (spec['falconSecret'] ?? {}) as Obj;
    const secretKey = `/api/v1/namespaces/${str(secretRef['namespace'])}/secrets/${str(secretRef['secretName'])}`;
    const secretOk = secretRef['enabled'] === true && standIn.store.has(secretKey);
    const failed = standIn.operatorSim.crFailure === kind;
    const conditions: Obj[] = [
      {
        type: 'SecretReady',
        status: secretOk ? 'True' : 'False',
        reason: secretOk ? 'Found' : 'SecretNotFound',
      },
    ];
    if (secretOk && !failed) {
      for (const w of workloads) {
        standIn.putInternal(`/api/v1/namespaces/${w.namespace}`, {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: w.namespace },
        });
        if (!standIn.store.has(w.key)) standIn.putInternal(w.key, structuredClone(w.object));
      }
      conditions.push({ type: 'Success', status: 'True', reason: 'Installed', message: `${kind} installed` });
    } else {
      conditions.push({
        type: 'Failed',
        status: 'True',
        reason: failed ? 'InstallFailed' : 'SecretNotFound',
        message: failed ? 'image pull failed: unauthorized' : `secret ${secretKey} not found`,
      });
    }
    stored.object['status'] = { conditions, version, sensor: '7.20.0-1234' };
  }
}
