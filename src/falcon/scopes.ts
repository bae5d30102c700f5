/*
 * Which Falcon API scope each endpoint this project calls needs, and the one cheap read that proves a
 * client holds a read scope. The scope table itself (the scopes, the features with their own client and
 * what each needs) is configuration knowledge and lives in src/config/falcon-scopes.ts, below both.
 */
import { FalconScope } from '../config/falcon-scopes.js';

export {
  FALCON_CLIENT_FEATURES,
  FEATURE_CREDENTIAL_HOMES,
  FEATURE_SCOPES,
  FalconScope,
  WRITE_SCOPES,
  type FalconClientFeature,
} from '../config/falcon-scopes.js';

/** The cheapest read that needs exactly one scope: a 403 to it means the client lacks that scope. */
export interface ScopeProbe {
  readonly scope: FalconScope;
  readonly path: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
}

const PROBES: readonly ScopeProbe[] = [
  {
    scope: FalconScope.ContainerImageRead,
    path: '/container-security/queries/registries/v1',
    query: [['limit', '1']],
  },
  { scope: FalconScope.HostsRead, path: '/devices/queries/devices/v1', query: [['limit', '1']] },
  { scope: FalconScope.SensorDownloadRead, path: '/sensors/queries/installers/ccid/v1', query: [] },
  {
    scope: FalconScope.ImagesDownloadRead,
    path: '/container-security/entities/image-registry-credentials/v1',
    query: [],
  },
  {
    scope: FalconScope.SensorUpdatePoliciesRead,
    path: '/policy/queries/sensor-update/v1',
    query: [['limit', '1']],
  },
];

/** The probe of a read scope; undefined for a write scope (no read proves it, and a probe never writes). */
export function probeFor(scope: FalconScope): ScopeProbe | undefined {
  return PROBES.find((p) => p.scope === scope);
}

/** The scope an endpoint needs, for naming it when Falcon answers 403; undefined when not known. */
export function scopeForEndpoint(method: string, path: string): FalconScope | undefined {
  const p = path.replace(/\/+$/, '');
  if (p.startsWith('/container-security/entities/image-registry-credentials/')) {
    return FalconScope.ImagesDownloadRead;
  }
  if (
    p.startsWith('/container-security/queries/registries/') ||
    p.startsWith('/container-security/entities/registries/')
  ) {
    return method === 'GET' ? FalconScope.ContainerImageRead : FalconScope.ContainerImageWrite;
  }
  if (p.startsWith('/devices/')) return FalconScope.HostsRead;
  if (p.startsWith('/sensors/queries/installers/')) return FalconScope.SensorDownloadRead;
  if (p.startsWith('/policy/') && p.includes('sensor-update')) return FalconScope.SensorUpdatePoliciesRead;
  return undefined;
}
