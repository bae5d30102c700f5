import type { FalconApi } from './api.js';
import { FalconApiError } from './errors.js';

function firstResource(resources: unknown): unknown {
  return Array.isArray(resources) ? (resources as unknown[])[0] : undefined;
}

/*
 * What pulling Falcon's own images needs: the CID with checksum (CCID) and the registry pull
 * token. Paths from the public API (see the project's falcon-api reference).
 */
export const CCID_PATH = '/sensors/queries/installers/ccid/v1';
export const PULL_TOKEN_PATH = '/container-security/entities/image-registry-credentials/v1';

/** The CID with checksum of the API client's tenant, e.g. "0123…CDEF-A1". */
export async function fetchCcid(api: FalconApi, signal?: AbortSignal): Promise<string> {
  const response = await api.request({ method: 'GET', path: CCID_PATH, ...(signal ? { signal } : {}) });
  const first = firstResource(response.envelope?.resources);
  if (typeof first !== 'string' || first === '') {
    throw new FalconApiError(
      'no CID in the answer (does the API client have the Sensor Download read scope?)',
      api.failure(response),
    );
  }
  return first;
}

/** The password for pulling Falcon images (user `fc-<cid>`). */
export async function fetchRegistryPullToken(api: FalconApi, signal?: AbortSignal): Promise<string> {
  const response = await api.request({ method: 'GET', path: PULL_TOKEN_PATH, ...(signal ? { signal } : {}) });
  const first = firstResource(response.envelope?.resources) as { token?: unknown } | undefined;
  if (typeof first?.token !== 'string' || first.token === '') {
    throw new FalconApiError(
      'no pull token in the answer (does the API client have the Falcon Images Download read scope?)',
      api.failure(response),
    );
  }
  return first.token;
}

/** The registry user for a CID: `fc-` + the lowercase CID without its checksum. */
export function registryPullUser(ccid: string): string {
  return `fc-${ccid.split('-')[0]?.toLowerCase() ?? ''}`;
}
