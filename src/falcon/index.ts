export { createFalconClient, type FalconClient, type FalconClientOptions } from './client.js';
export type { FalconApi, ApiRequest } from './api.js';
export { systemClock, type Clock } from './clock.js';
export { resolveBaseUrl, type FalconEndpoint } from './endpoint.js';
export * from './errors.js';
export type { FalconEvent, FalconEventListener } from './events.js';
export {
  DEFAULT_CREDENTIAL_VALIDATION,
  FalconRegistryConnections,
  type CredentialValidationPolicy,
  type RegistryConnectionsOptions,
} from './registry-connections.js';
export type { FalconCredentials } from './token.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './transport.js';
export type {
  CreateEcrConnectionInput,
  CreatedConnection,
  RegistryConnection,
  RegistryConnectionsApi,
} from './types.js';
export { normalizeRegistryUrl, sameRegistryUrl } from './url.js';
export {
  FalconHosts,
  awsAccountFilter,
  instanceIdsFilter,
  type FalconHostEntity,
  type HostsOptions,
} from './hosts.js';
