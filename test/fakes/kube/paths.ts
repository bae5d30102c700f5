/** Parsed Kubernetes API path: `/api/v1/...` or `/apis/<group>/<version>/...`. */
export interface ApiPath {
  readonly group: string;
  readonly version: string;
  readonly namespace: string | undefined;
  readonly plural: string;
  readonly name: string | undefined;
  /** The object's storage key: the path without query. */
  readonly key: string;
}

export function parseApiPath(pathname: string): ApiPath | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    version = 'v1';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const plural = rest[0];
  if (plural === undefined || rest.length > 2) return undefined;
  const name = rest[1];
  return { group, version, namespace, plural, name, key: pathname };
}

/** Built-in kinds the stand-in serves: plural → kind, whether namespaced. */
export const BUILT_IN_KINDS: Readonly<Record<string, { kind: string; namespaced: boolean }>> = {
  '/v1/namespaces': { kind: 'Namespace', namespaced: false },
  '/v1/serviceaccounts': { kind: 'ServiceAccount', namespaced: true },
  '/v1/secrets': { kind: 'Secret', namespaced: true },
  '/v1/configmaps': { kind: 'ConfigMap', namespaced: true },
  '/v1/services': { kind: 'Service', namespaced: true },
  'apps/v1/deployments': { kind: 'Deployment', namespaced: true },
  'apps/v1/daemonsets': { kind: 'DaemonSet', namespaced: true },
  'rbac.authorization.k8s.io/v1/roles': { kind: 'Role', namespaced: true },
  'rbac.authorization.k8s.io/v1/rolebindings': { kind: 'RoleBinding', namespaced: true },
  'rbac.authorization.k8s.io/v1/clusterroles': { kind: 'ClusterRole', namespaced: false },
  'rbac.authorization.k8s.io/v1/clusterrolebindings': { kind: 'ClusterRoleBinding', namespaced: false },
  'apiextensions.k8s.io/v1/customresourcedefinitions': {
    kind: 'CustomResourceDefinition',
    namespaced: false,
  },
};
