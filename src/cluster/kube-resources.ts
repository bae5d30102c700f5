import { ClusterError } from './errors.js';

/** A Kubernetes object as the deployer handles it (plain JSON). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** What an access review asks about, without the verb (`resourceAttributes` of the API). */
export interface ResourceAttributes {
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
}

interface ResourceInfo {
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Kinds the deployer touches that are built into Kubernetes. */
const BUILT_IN: Readonly<Record<string, ResourceInfo>> = {
  'v1/Namespace': { plural: 'namespaces', namespaced: false },
  'v1/ServiceAccount': { plural: 'serviceaccounts', namespaced: true },
  'v1/Secret': { plural: 'secrets', namespaced: true },
  'v1/ConfigMap': { plural: 'configmaps', namespaced: true },
  'v1/Service': { plural: 'services', namespaced: true },
  'apps/v1/Deployment': { plural: 'deployments', namespaced: true },
  'apps/v1/DaemonSet': { plural: 'daemonsets', namespaced: true },
  'rbac.authorization.k8s.io/v1/Role': { plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { plural: 'rolebindings', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': { plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { plural: 'clusterrolebindings', namespaced: false },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': {
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': {
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': {
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
};

/**
 * Maps kinds to API paths: the built-in table plus the custom resources the manifest's CRDs
 * declare (no discovery round trips; an unknown kind is an error, never a guess).
 */
export class ResourceMap {
  private readonly custom = new Map<string, ResourceInfo>();

  /** Learns the kinds a CustomResourceDefinition declares (every served version). */
  addCrd(crd: KubeObject): void {
    const spec = crd['spec'] as
      | {
          group?: string;
          scope?: string;
          names?: { plural?: string; kind?: string };
          versions?: { name?: string }[];
        }
      | undefined;
    const group = spec?.group;
    const plural = spec?.names?.plural;
    const kind = spec?.names?.kind;
    if (!group || !plural || !kind)
      throw new ClusterError(`CRD ${crd.metadata.name} lacks group, plural or kind`);
    for (const version of spec.versions ?? []) {
      if (version.name) {
        this.custom.set(`${group}/${version.name}/${kind}`, {
          plural,
          namespaced: spec.scope === 'Namespaced',
        });
      }
    }
  }

  private info(apiVersion: string, kind: string): ResourceInfo {
    const found = BUILT_IN[`${apiVersion}/${kind}`] ?? this.custom.get(`${apiVersion}/${kind}`);
    if (!found) throw new ClusterError(`no API path known for ${apiVersion} ${kind}`);
    return found;
  }

  /** `/api/v1/namespaces/x/secrets/y`, `/apis/apps/v1/namespaces/x/deployments/y`, … */
  pathOf(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
    const info = this.info(object.apiVersion, object.kind);
    const base = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
    const ns = info.namespaced
      ? `/namespaces/${encodeURIComponent(object.metadata.namespace ?? 'default')}`
      : '';
    return `${base}${ns}/${info.plural}/${encodeURIComponent(object.metadata.name)}`;
  }

  /** The API group, resource (plural) and namespace of an object, as RBAC and access reviews name them. */
  resourceOf(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): ResourceAttributes {
    const info = this.info(object.apiVersion, object.kind);
    const slash = object.apiVersion.lastIndexOf('/');
    return {
      group: slash < 0 ? '' : object.apiVersion.slice(0, slash),
      resource: info.plural,
      ...(info.namespaced ? { namespace: object.metadata.namespace ?? 'default' } : {}),
    };
  }

  isNamespaced(apiVersion: string, kind: string): boolean {
    return this.info(apiVersion, kind).namespaced;
  }
}

/** "Deployment falcon-operator/falcon-operator-controller-manager" for messages. */
export function describeObject(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const ns = object.metadata.namespace ? `${object.metadata.namespace}/` : '';
  return `${object.kind} ${ns}${object.metadata.name}`;
}
