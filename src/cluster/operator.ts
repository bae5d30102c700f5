import { serverSideApply, VERSION_ANNOTATION, type ApplyOutcome } from './apply.js';
import { deploymentRolledOut, describeConditions, isTrue } from './conditions.js';
import type { KubeClient } from './kube-client.js';
import { describeObject, type KubeObject, type ResourceMap } from './kube-resources.js';
import { inApplyOrder, phaseOf } from './manifest.js';
import { pollUntil, type DeployerClock } from './wait.js';

export interface OperatorInstallOptions {
  readonly version: string;
  readonly crdEstablishedSeconds: number;
  readonly operatorAvailableSeconds: number;
}

export interface OperatorInstallResult {
  readonly applied: readonly ApplyOutcome[];
  /** Objects whose content changed (created or updated). */
  readonly changed: number;
  /** The operator version found on the cluster before this run, if any. */
  readonly previousVersion: string | undefined;
}

/** Learns the manifest's custom kinds so their paths are known before the CRDs exist. */
export function registerCrds(resources: ResourceMap, objects: readonly KubeObject[]): void {
  for (const o of objects) if (o.kind === 'CustomResourceDefinition') resources.addCrd(o);
}

/**
 * Applies the operator manifest object by object in dependency order: namespace, CRDs (then waits
 * until each is Established), RBAC, configuration, the operator Deployment (then waits until it is
 * Available). Every object is applied; `changed` counts those the apply changed.
 */
export async function installOperator(
  kube: KubeClient,
  resources: ResourceMap,
  objects: readonly KubeObject[],
  clock: DeployerClock,
  options: OperatorInstallOptions,
): Promise<OperatorInstallResult> {
  registerCrds(resources, objects);
  const ordered = inApplyOrder(objects);
  const applied: ApplyOutcome[] = [];
  const deployment = ordered.find((o) => o.kind === 'Deployment');
  const previous = deployment ? await kube.get(resources.pathOf(deployment)) : undefined;
  const previousVersion = previous?.metadata.annotations?.[VERSION_ANNOTATION];
  const annotations = { [VERSION_ANNOTATION]: options.version };

  let crdsWaited = false;
  for (const object of ordered) {
    if (!crdsWaited && phaseOf(object) !== 'namespace' && phaseOf(object) !== 'crd') {
      await waitCrdsEstablished(kube, resources, applied, clock, options.crdEstablishedSeconds);
      crdsWaited = true;
    }
    // The version marks the operator Deployment only: on an upgrade, objects whose content is the
    // same in both releases stay unchanged.
    applied.push(
      await serverSideApply(kube, resources, object, object.kind === 'Deployment' ? annotations : {}),
    );
  }
  for (const outcome of applied.filter((a) => a.object.kind === 'Deployment')) {
    await waitDeploymentAvailable(
      kube,
      outcome.path,
      describeObject(outcome.object),
      clock,
      options.operatorAvailableSeconds,
    );
  }
  return { applied, changed: applied.filter((a) => a.changed).length, previousVersion };
}

async function waitCrdsEstablished(
  kube: KubeClient,
  resources: ResourceMap,
  applied: readonly ApplyOutcome[],
  clock: DeployerClock,
  deadlineSeconds: number,
): Promise<void> {
  for (const crd of applied.filter((a) => a.object.kind === 'CustomResourceDefinition')) {
    await pollUntil(
      clock,
      { what: `CRD ${crd.object.metadata.name} to be Established`, deadlineSeconds },
      async () => {
        const current = await kube.get(resources.pathOf(crd.object));
        return {
          done: isTrue(current, 'Established'),
          seen: current ? describeConditions(current) : 'not found',
        };
      },
    );
  }
}

export async function waitDeploymentAvailable(
  kube: KubeClient,
  path: string,
  name: string,
  clock: DeployerClock,
  deadlineSeconds: number,
): Promise<void> {
  await pollUntil(clock, { what: `${name} to be Available`, deadlineSeconds }, async () => {
    return deploymentRolledOut(await kube.get(path));
  });
}
