/**
 * The Falcon API client: OAuth2, retries, rate limits, timeouts, registry connections.
 *
 * Why this calls the few endpoints directly instead of using or wrapping the official
 * `crowdstrike-falcon` npm package (checked against version 0.7.0):
 * - Bundle size: the package adds roughly 3–4.5 MB to a Lambda bundle; the ecr-connect bundle's target
 *   is < 1.5 MB and < 300 ms cold module load. This client is a few KB and has no dependencies.
 * - Cloud coverage: its `cloud` option knows us-1, us-2, eu-1 and us-gov-1 only; we need us-gov-2 and
 *   an explicit base URL (proxies, the local stand-in) as first-class options.
 * - Correctness: its typed serializers drop fields the spec lacks and some deserializers crash when
 *   `errors`/`resources` are missing — exactly the real-world answers we must absorb here (200 with an
 *   empty body for a duplicate, 400 "failed to validate registry credential", 409).
 * - Behaviour we need anyway and would have to wrap around it: token refresh margin, refresh on 401,
 *   429 headers, backoff with jitter, per-request timeouts, trace IDs in errors, secret redaction.
 * We need five registry operations plus token/revoke; owning ~500 lines is cheaper than wrapping.
 */
import { FalconApi } from './api.js';
import { systemClock, type Clock } from './clock.js';
import { resolveBaseUrl, type FalconEndpoint } from './endpoint.js';
import { FalconClientConfigError } from './errors.js';
import type { FalconEventListener } from './events.js';
import { SecretRedactor } from './redact.js';
import { FalconRegistryConnections, type RegistryConnectionsOptions } from './registry-connections.js';
import { TokenManager, type FalconCredentials } from './token.js';
import { DEFAULT_RETRY_POLICY, FalconTransport, type RetryPolicy } from './transport.js';

export interface FalconClientOptions extends FalconEndpoint {
  readonly credentials: FalconCredentials;
  /** Per-request (per attempt) timeout. @default 30000 */
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Ask for a new token this long before the current one expires (capped at half its lifetime). @default 60000 */
  readonly tokenRefreshMarginMs?: number;
  readonly registryConnections?: RegistryConnectionsOptions;
  /** Retries, rate-limit waits, token events; never carries secrets. */
  readonly onEvent?: FalconEventListener;
  /** For tests: time, sleep and jitter. @default the system clock */
  readonly clock?: Clock;
  /** For tests or proxies: the fetch implementation. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default "falcon-org" */
  readonly userAgent?: string;
}

export interface FalconClient {
  /** The resolved API base URL (no trailing slash). */
  readonly baseUrl: string;
  readonly registryConnections: FalconRegistryConnections;
  /** Authenticated requests to other endpoints (CCID, pull token, …). */
  readonly api: FalconApi;
  /** Revokes the cached token (best effort; never throws). */
  close(): Promise<void>;
}

/**
 * @example
 * const falcon = createFalconClient({ cloud: 'us-2', credentials: { clientId, clientSecret } });
 * try {
 *   const connection = await falcon.registryConnections.createEcrConnection({ url, roleArn, externalId });
 * } finally {
 *   await falcon.close();
 * }
 */
export function createFalconClient(options: FalconClientOptions): FalconClient {
  const baseUrl = resolveBaseUrl(options);
  const { clientId, clientSecret } = options.credentials;
  if (clientId.trim() === '' || clientSecret.trim() === '') {
    throw new FalconClientConfigError('Falcon API client ID and secret must not be empty');
  }
  const clock = options.clock ?? systemClock;
  const onEvent = options.onEvent ?? (() => undefined);
  const redactor = new SecretRedactor();
  redactor.add(clientSecret);
  const transport = new FalconTransport({
    baseUrl,
    fetch: options.fetch ?? globalThis.fetch,
    clock,
    timeoutMs: options.timeoutMs ?? 30_000,
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    userAgent: options.userAgent ?? 'falcon-org',
    onEvent,
    redact: (text) => redactor.redact(text),
  });
  const tokens = new TokenManager(
    transport,
    options.credentials,
    clock,
    options.tokenRefreshMarginMs ?? 60_000,
    redactor,
    onEvent,
  );
  // The cloud only matters for error hints when no explicit base URL overrides it.
  const namedCloud = options.baseUrl === undefined || options.baseUrl === '' ? options.cloud : undefined;
  const api = new FalconApi(transport, tokens, namedCloud);
  return {
    baseUrl,
    api,
    registryConnections: new FalconRegistryConnections(
      api,
      clock,
      onEvent,
      options.registryConnections,
      redactor,
    ),
    close: () => tokens.revoke(),
  };
}
