import type { ComputeMode } from '../eks/run-contract.js';
import type { KubeObject } from './kube-resources.js';
import type { DeployerRunSettings } from './settings.js';

export const FALCON_API_VERSION = 'falcon.crowdstrike.com/v1alpha1';
export const SECRET_NAMESPACE = 'falcon-operator';
export const SECRET_NAME = 'falcon-org-api-credentials';

export interface FalconApiCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly cid?: string;
}

/** Image overrides when images were mirrored into the home account's ECR. */
export interface ImageOverrides {
  readonly nodeSensor?: string;
  readonly containerSensor?: string;
  readonly admission?: string;
}

/** The Secret the custom resources reference (keys as the operator reads them). */
export function credentialsSecret(credentials: FalconApiCredentials): KubeObject {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRET_NAME, namespace: SECRET_NAMESPACE },
    type: 'Opaque',
    data: {
      'falcon-client-id': b64(credentials.clientId),
      'falcon-client-secret': b64(credentials.clientSecret),
      ...(credentials.cid ? { 'falcon-cid': b64(credentials.cid) } : {}),
    },
  };
}

const secretRef = { enabled: true, namespace: SECRET_NAMESPACE, secretName: SECRET_NAME };

/** The Falcon custom resources a cluster gets, by compute mode. Never the retired protection agent. */
export function falconCustomResources(
  compute: ComputeMode,
  settings: DeployerRunSettings,
  images: ImageOverrides = {},
): KubeObject[] {
  // Explicit cloud_region everywhere: autodiscover fails in government clouds. Credentials only
  // through the Secret reference.
  const falconApi = { cloud_region: settings.falcon.cloud };
  const resources: KubeObject[] = [];
  // Self-managed nodes cannot be listed by the EKS API: "none" still gets the node sensor.
  if (compute === 'nodes' || compute === 'mixed' || compute === 'none') {
    resources.push({
      apiVersion: FALCON_API_VERSION,
      kind: 'FalconNodeSensor',
      metadata: { name: 'falcon-node-sensor' },
      spec: {
        falcon_api: falconApi,
        falconSecret: secretRef,
        node: {
          backend: settings.nodeSensor.backend,
          ...(images.nodeSensor ? { image: images.nodeSensor } : {}),
        },
        falcon: { tags: ['falcon-org'] },
      },
    });
  }
  if (compute === 'fargate' || compute === 'mixed') {
    resources.push({
      apiVersion: FALCON_API_VERSION,
      kind: 'FalconContainer',
      metadata: { name: 'falcon-container-sensor' },
      spec: {
        falcon_api: falconApi,
        falconSecret: secretRef,
        registry: { type: 'crowdstrike' },
        ...(images.containerSensor ? { image: images.containerSensor } : {}),
        injector: {
          // Fargate only: inject everywhere; mixed: only namespaces labelled
          // `settings.fargateInjectionLabel`=enabled (the operator's fixed opt-in key, which the
          // settings only accept), so pods on EC2 nodes (covered by the node sensor) get no sidecar.
          // The CRD's JSON name is `disableDefaultNamespaceInjection`; an unknown name is pruned.
          disableDefaultNamespaceInjection: compute === 'mixed',
          disableDefaultPodInjection: false,
        },
        falcon: { tags: ['falcon-org'] },
      },
    });
  }
  if (settings.admission.enabled) {
    resources.push({
      apiVersion: FALCON_API_VERSION,
      kind: 'FalconAdmission',
      metadata: { name: 'falcon-kac' },
      spec: {
        falcon_api: falconApi,
        falconSecret: secretRef,
        registry: { type: 'crowdstrike' },
        ...(images.admission ? { image: images.admission } : {}),
        admissionConfig: {
          failurePolicy: settings.admission.failurePolicy,
          replicas: settings.admission.replicas,
        },
        falcon: { tags: ['falcon-org'] },
      },
    });
  }
  return resources;
}

/** Every Falcon kind the deployer may have created (for uninstall). */
export const FALCON_KINDS = [
  { kind: 'FalconNodeSensor', name: 'falcon-node-sensor' },
  { kind: 'FalconContainer', name: 'falcon-container-sensor' },
  { kind: 'FalconAdmission', name: 'falcon-kac' },
] as const;
