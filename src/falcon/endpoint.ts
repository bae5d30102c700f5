import { falconBaseUrl, FALCON_CLOUD_NAMES, isFalconCloud } from '../config/clouds.js';
import { FalconClientConfigError } from './errors.js';

/** Where the client sends requests: a Falcon cloud name, or an explicit base URL (which wins). */
export interface FalconEndpoint {
  /** us-1, us-2, eu-1, us-gov-1 or us-gov-2. */
  readonly cloud?: string;
  /** e.g. "https://falcon-proxy.example" or "http://127.0.0.1:43123" (proxies, emulators, tests). */
  readonly baseUrl?: string;
}

/** The API base URL without a trailing slash; throws FalconClientConfigError when unusable. */
export function resolveBaseUrl(endpoint: FalconEndpoint): string {
  if (endpoint.baseUrl !== undefined && endpoint.baseUrl !== '') {
    let url: URL;
    try {
      url = new URL(endpoint.baseUrl);
    } catch (error) {
      throw new FalconClientConfigError(`Falcon base URL is not a URL: "${endpoint.baseUrl}"`, {
        cause: error,
      });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new FalconClientConfigError(`Falcon base URL must be http(s), got "${url.protocol}"`);
    }
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
      throw new FalconClientConfigError(
        'Falcon base URL must not contain credentials, a query or a fragment',
      );
    }
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  }
  if (endpoint.cloud !== undefined && endpoint.cloud !== '') {
    if (!isFalconCloud(endpoint.cloud)) {
      throw new FalconClientConfigError(
        `unknown Falcon cloud "${endpoint.cloud}"; expected one of ${FALCON_CLOUD_NAMES.join(', ')} or a base URL`,
      );
    }
    return falconBaseUrl(endpoint.cloud);
  }
  throw new FalconClientConfigError('a Falcon cloud name or base URL is required');
}
