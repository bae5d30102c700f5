import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isRetryableStatus, parseRetryAfter, retryDelay, type BackoffPolicy } from '../shared/backoff.js';
import { KubeApiError, KubeConnectionError } from './errors.js';
import type { KubeObject } from './kube-resources.js';
import { systemClock, type DeployerClock } from './wait.js';

export const APPLY_PATCH_CONTENT_TYPE = 'application/apply-patch+yaml';

export interface KubeClientOptions {
  /** The cluster endpoint from DescribeCluster, e.g. `https://ABC.gr7.eu-west-1.eks.amazonaws.com`. */
  readonly server: string;
  /** The cluster CA (PEM) to trust, from `certificateAuthority.data` (decoded). Nothing else is trusted. */
  readonly caPem?: string;
  /** Current bearer token; `renew` is called once after a 401. */
  readonly token: { get(): Promise<string>; renew(): Promise<string> };
  /** Per-request timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** Retries of 429, 5xx and lost connections. @default DEFAULT_KUBE_RETRY */
  readonly retry?: Partial<BackoffPolicy>;
  /** Time for the waits between retries. @default systemClock */
  readonly clock?: DeployerClock;
  /** @default Math.random */
  readonly random?: () => number;
}

/**
 * The API server answers 429 when API priority and fairness sheds load (with `Retry-After`), 5xx
 * while a control plane instance restarts, and connections drop while an endpoint allow-list
 * change rolls out: a few retries over tens of seconds ride all of these out.
 */
export const DEFAULT_KUBE_RETRY: BackoffPolicy = { retries: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Connection failures worth another try (not TLS or certificate errors: those stay wrong). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'KUBE_TIMEOUT',
]);

function isTransient(error: unknown): boolean {
  return error instanceof Error && TRANSIENT_CODES.has((error as NodeJS.ErrnoException).code ?? '');
}

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: IncomingHttpHeaders;
}

interface RawRequest {
  readonly method: 'GET' | 'PATCH' | 'DELETE' | 'POST' | 'PUT';
  readonly path: string;
  readonly contentType?: string;
  readonly body?: string;
}

/**
 * A minimal Kubernetes API client over node:http(s): bearer token, the cluster's own CA, JSON in
 * and out. Server-side apply only (no client-side diffing, no last-applied annotation).
 */
export class KubeClient {
  constructor(private readonly options: KubeClientOptions) {}

  private send(req: RawRequest, token: string): Promise<KubeResponse> {
    const url = new URL(req.path, this.options.server);
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (req.contentType) headers['content-type'] = req.contentType;
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    return new Promise((resolve, reject) => {
      const send = isHttps ? httpsRequest : httpRequest;
      const r = send(
        url,
        {
          method: req.method,
          headers,
          timeout: this.options.timeoutMs ?? 30_000,
          ...(isHttps && this.options.caPem ? { ca: this.options.caPem } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = text === '' ? undefined : JSON.parse(text);
            } catch {
              // not JSON: keep the text for the error message
            }
            resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
          });
        },
      );
      r.on('timeout', () =>
        r.destroy(
          Object.assign(new Error(`${req.method} ${url.pathname}: timed out`), { code: 'KUBE_TIMEOUT' }),
        ),
      );
      r.on('error', reject);
      if (req.body !== undefined) r.write(req.body);
      r.end();
    });
  }

  /**
   * Sends with the current token (after a 401 renews the token once and sends again), and retries
   * 429, 5xx and lost connections with backoff, waiting as long as `Retry-After` asks (bounded by
   * the policy). Every request the deployer sends is safe to repeat: reads, server-side apply,
   * deletes and access reviews.
   */
  async raw(req: RawRequest): Promise<KubeResponse> {
    const policy = { ...DEFAULT_KUBE_RETRY, ...this.options.retry };
    const clock = this.options.clock ?? systemClock;
    const random = this.options.random ?? Math.random;
    for (let retry = 0; ; retry++) {
      let response: KubeResponse;
      try {
        response = await this.sendWithToken(req);
      } catch (error) {
        if (!isTransient(error)) throw error;
        if (retry >= policy.retries) {
          throw new KubeConnectionError(`${req.method} ${req.path}`, retry + 1, { cause: error });
        }
        await clock.sleep(retryDelay(policy, retry, undefined, random));
        continue;
      }
      if (!isRetryableStatus(response.status) || retry >= policy.retries) return response;
      const asked = parseRetryAfter(response.headers?.['retry-after'], clock.now());
      await clock.sleep(retryDelay(policy, retry, asked, random));
    }
  }

  private async sendWithToken(req: RawRequest): Promise<KubeResponse> {
    const first = await this.send(req, await this.options.token.get());
    if (first.status !== 401) return first;
    return this.send(req, await this.options.token.renew());
  }

  private fail(operation: string, response: KubeResponse): never {
    const body = response.body as { message?: unknown } | string | undefined;
    const detail =
      typeof body === 'string' ? body.slice(0, 300) : typeof body?.message === 'string' ? body.message : '';
    throw new KubeApiError(operation, response.status, detail);
  }

  /** The object, or undefined on 404. */
  async get<T = KubeObject>(path: string): Promise<T | undefined> {
    const response = await this.raw({ method: 'GET', path });
    if (response.status === 404) return undefined;
    if (response.status !== 200) this.fail(`GET ${path}`, response);
    return response.body as T;
  }

  /**
   * Server-side apply: PATCH with `application/apply-patch+yaml` (JSON is YAML), our field manager,
   * and force so fields another manager set are taken over rather than failing the run.
   */
  async apply(path: string, object: KubeObject, fieldManager: string): Promise<KubeObject> {
    const query = `?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
    const response = await this.raw({
      method: 'PATCH',
      path: path + query,
      contentType: APPLY_PATCH_CONTENT_TYPE,
      body: JSON.stringify(object),
    });
    if (response.status !== 200 && response.status !== 201) this.fail(`apply ${path}`, response);
    return response.body as KubeObject;
  }

  /** Deletes (foreground, so dependents go first); true when it existed. */
  async delete(path: string): Promise<boolean> {
    const response = await this.raw({
      method: 'DELETE',
      path,
      contentType: 'application/json',
      body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' }),
    });
    if (response.status === 404) return false;
    if (response.status !== 200 && response.status !== 202) this.fail(`DELETE ${path}`, response);
    return true;
  }
}
