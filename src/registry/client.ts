import { setTimeout as sleep } from 'node:timers/promises';

import { AuthState, CATALOG_SCOPE, repositoryScope } from './auth.js';
import type { BearerRealm, RegistryCredentials, Scope } from './auth.js';
import { isDigest } from '../catalog/references.js';
import { sha256Digest, verifyDigest } from './digest.js';
import {
  DigestMismatchError,
  RegistryAuthError,
  RegistryHttpError,
  RegistryNetworkError,
  type HttpFailure,
  type RegistryErrorCode,
} from './errors.js';
import { nextLink } from './link-header.js';
import { MANIFEST_ACCEPT, bareMediaType, isSchema1MediaType } from './media-types.js';
import { isRetryableStatus, parseRetryAfter, retryDelay, type BackoffPolicy } from '../shared/backoff.js';
import { nodeTransport, type ClosableTransport, type HttpResponse, type Transport } from './transport.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

/** How the client retries 429/5xx answers and lost connections (equal jitter, Retry-After honoured). */
export const DEFAULT_REGISTRY_RETRY: BackoffPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 20_000 };

export interface OciClientOptions {
  /** Registry base URL, `http(s)://host[:port]` (no path, no credentials). */
  readonly url: string;
  /** For basic auth, and sent to a bearer token service. Anonymous when absent. */
  readonly credentials?: RegistryCredentials;
  /** Per-attempt timeout, including reading the body. @default 30000 */
  readonly timeoutMs?: number;
  /** @default DEFAULT_REGISTRY_RETRY */
  readonly retry?: Partial<BackoffPolicy>;
  /** How requests go out. @default nodeTransport() (keep-alive pooled node:http/https) */
  readonly transport?: Transport;
  /** Clock for token lifetimes; injected for tests. @default Date.now */
  readonly now?: () => number;
}

/** What a manifest HEAD tells: enough to group tags by digest without reading the body. */
export interface ManifestHead {
  readonly digest: string;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
}

/** A fetched manifest with its exact bytes (re-PUT them unchanged to keep the digest). */
export interface Manifest {
  readonly digest: string;
  readonly mediaType: string | undefined;
  readonly bytes: Uint8Array;
}

export interface PageOptions {
  /** `n`: entries per page asked of the registry. @default 1000 */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

export interface UploadOptions {
  /** Bodies larger than this are sent as PATCH chunks of this size. @default 16 MiB */
  readonly chunkSize?: number;
  /** An upload session already opened (e.g. by a mount attempt the registry declined). */
  readonly location?: string;
  readonly signal?: AbortSignal;
}

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

interface RequestSpec {
  readonly method: Method;
  readonly url: string;
  readonly scopes: readonly Scope[];
  /** Statuses handed back to the caller; anything else becomes an error. */
  readonly accept: readonly number[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly signal?: AbortSignal | undefined;
}

const DEFAULT_PAGE_SIZE = 1000;
const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** The URL with any userinfo removed, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * A client for one registry speaking the OCI distribution API. Safe for many parallel requests:
 * auth state and tokens are shared, concurrent token requests for the same scopes are merged.
 *
 * @example
 * const client = new OciRegistryClient({ url: 'http://127.0.0.1:5000' });
 * const repos = await client.listRepositories({ pageSize: 100 });
 * const head = await client.headManifest(repos[0], 'latest');
 */
export class OciRegistryClient {
  readonly url: string;
  private readonly auth: AuthState;
  private readonly transport: Transport;
  private readonly ownTransport: ClosableTransport | undefined;
  private readonly timeoutMs: number;
  private readonly retryPolicy: BackoffPolicy;
  private readonly now: () => number;

  constructor(options: OciClientOptions) {
    const base = new URL(options.url);
    this.url = `${base.protocol}//${base.host}`;
    this.now = options.now ?? Date.now;
    this.auth = new AuthState(options.credentials, this.now);
    if (options.transport) {
      this.transport = options.transport;
    } else {
      this.ownTransport = nodeTransport();
      this.transport = this.ownTransport;
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retryPolicy = { ...DEFAULT_REGISTRY_RETRY, ...options.retry };
  }

  /** Releases pooled connections of the default transport (idle ones never keep the process alive). */
  close(): void {
    this.ownTransport?.close();
  }

  /** GET /v2/: checks the registry answers and our credentials are accepted. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.request({
      method: 'GET',
      url: `${this.url}/v2/`,
      scopes: [],
      accept: [200],
      signal,
    });
  }

  /**
   * The registry's clock: the `Date` header of a GET /v2/ (whole seconds), undefined when it sends
   * none. Events the registry stamps are compared with what a scan saw on this clock, not ours.
   */
  async serverDate(signal?: AbortSignal): Promise<string | undefined> {
    const res = await this.request({
      method: 'GET',
      url: `${this.url}/v2/`,
      scopes: [],
      accept: [200],
      signal,
    });
    return res.headers.get('date') ?? undefined;
  }

  /** Pages of `/v2/_catalog`, following `Link` headers. */
  async *catalogPages(options: PageOptions = {}): AsyncGenerator<string[]> {
    const first = `${this.url}/v2/_catalog?n=${options.pageSize ?? DEFAULT_PAGE_SIZE}`;
    for await (const body of this.pages(first, [CATALOG_SCOPE], options.signal)) {
      const list = (body as { repositories?: unknown }).repositories;
      yield Array.isArray(list) ? list.filter((r): r is string => typeof r === 'string') : [];
    }
  }

  /** Every repository name, all pages. */
  async listRepositories(options: PageOptions = {}): Promise<string[]> {
    const all: string[] = [];
    for await (const page of this.catalogPages(options)) all.push(...page);
    return all;
  }

  /** Pages of `/v2/<name>/tags/list`; a repository that does not exist (any more) yields nothing. */
  async *tagPages(repository: string, options: PageOptions = {}): AsyncGenerator<string[]> {
    const first = `${this.url}/v2/${repository}/tags/list?n=${options.pageSize ?? DEFAULT_PAGE_SIZE}`;
    const scopes = [repositoryScope(repository, 'pull')];
    for await (const body of this.pages(first, scopes, options.signal, true)) {
      const list = (body as { tags?: unknown }).tags;
      yield Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string') : [];
    }
  }

  /** Every tag of a repository, all pages. */
  async listTags(repository: string, options: PageOptions = {}): Promise<string[]> {
    const all: string[] = [];
    for await (const page of this.tagPages(repository, options)) all.push(...page);
    return all;
  }

  /** HEAD a manifest by tag or digest; undefined when it does not exist. */
  async headManifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<ManifestHead | undefined> {
    const res = await this.request({
      method: 'HEAD',
      url: `${this.url}/v2/${repository}/manifests/${reference}`,
      scopes: [repositoryScope(repository, 'pull')],
      accept: [200, 404],
      headers: { accept: MANIFEST_ACCEPT },
      signal,
    });
    if (res.status === 404) return undefined;
    const digest = res.headers.get('docker-content-digest') ?? (isDigest(reference) ? reference : undefined);
    if (!digest) {
      // Some registries leave the digest out of HEAD answers: read the body and hash it.
      const manifest = await this.getManifest(repository, reference, signal);
      return (
        manifest && { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.bytes.length }
      );
    }
    const length = res.headers.get('content-length');
    return {
      digest,
      mediaType: bareMediaType(res.headers.get('content-type')),
      size: length === null ? undefined : Number(length),
    };
  }

  /**
   * GET a manifest by tag or digest. The digest is the sha256 of the bytes, checked against the
   * digest asked for or, by tag, the registry's Docker-Content-Digest; for a legacy schema 1
   * manifest it is the registry's Docker-Content-Digest (its bytes carry signatures).
   */
  async getManifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<Manifest | undefined> {
    const url = `${this.url}/v2/${repository}/manifests/${reference}`;
    const res = await this.request({
      method: 'GET',
      url,
      scopes: [repositoryScope(repository, 'pull')],
      accept: [200, 404],
      headers: { accept: MANIFEST_ACCEPT },
      signal,
    });
    if (res.status === 404) {
      return undefined;
    }
    const bytes = res.body;
    const mediaType = bareMediaType(res.headers.get('content-type'));
    const announced = res.headers.get('docker-content-digest') ?? undefined;
    const what = `manifest ${repository}@${reference}`;
    if (isSchema1MediaType(mediaType)) {
      // Signed schema 1: the bytes do not hash to the digest; take the registry's, as HEAD does, so
      // a scan by HEAD and a scan by GET see the same digest.
      const digest = announced ?? (isDigest(reference) ? reference : sha256Digest(bytes));
      if (isDigest(reference) && digest !== reference) throw new DigestMismatchError(what, reference, digest);
      return { digest, mediaType, bytes };
    }
    const digest = sha256Digest(bytes);
    if (isDigest(reference)) verifyDigest(what, reference, bytes);
    // By tag: the registry's own digest must name these bytes too (HEAD answers report that digest).
    else if (announced && isDigest(announced)) verifyDigest(what, announced, bytes);
    return { digest, mediaType, bytes };
  }

  /** PUT manifest bytes under a tag or their digest; returns the digest the registry stored. */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const res = await this.request({
      method: 'PUT',
      url: `${this.url}/v2/${repository}/manifests/${reference}`,
      scopes: [repositoryScope(repository, 'pull,push')],
      accept: [201],
      headers: { 'content-type': mediaType },
      body: bytes,
      signal,
    });
    return res.headers.get('docker-content-digest') ?? sha256Digest(bytes);
  }

  /**
   * DELETE a manifest by digest (the registry removes every tag pointing at it). False when it
   * did not exist. Registries only delete by digest; see test/services/oci-images.ts for tag deletion.
   */
  async deleteManifest(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.request({
      method: 'DELETE',
      url: `${this.url}/v2/${repository}/manifests/${digest}`,
      scopes: [repositoryScope(repository, 'delete'), repositoryScope(repository, 'pull,push')],
      accept: [202, 200, 404],
      signal,
    });
    return res.status !== 404;
  }

  /** HEAD a blob: does the repository already have it? */
  async hasBlob(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.request({
      method: 'HEAD',
      url: `${this.url}/v2/${repository}/blobs/${digest}`,
      scopes: [repositoryScope(repository, 'pull')],
      accept: [200, 404],
      signal,
    });
    return res.status === 200;
  }

  /** GET a blob into memory, checking its digest. */
  async getBlob(repository: string, digest: string, signal?: AbortSignal): Promise<Uint8Array> {
    const res = await this.request({
      method: 'GET',
      url: `${this.url}/v2/${repository}/blobs/${digest}`,
      scopes: [repositoryScope(repository, 'pull')],
      accept: [200],
      signal,
    });
    const bytes = res.body;
    verifyDigest(`blob ${repository}@${digest}`, digest, bytes);
    return bytes;
  }

  /**
   * Asks the registry to mount a blob from another repository of the same registry (no data sent).
   * When it declines it opens an upload session instead, returned as `location` for uploadBlob.
   */
  async mountBlob(
    repository: string,
    digest: string,
    fromRepository: string,
    signal?: AbortSignal,
  ): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const query = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepository)}`;
    const res = await this.request({
      method: 'POST',
      url: `${this.url}/v2/${repository}/blobs/uploads/?${query}`,
      scopes: [repositoryScope(repository, 'pull,push'), repositoryScope(fromRepository, 'pull')],
      accept: [201, 202],
      headers: { 'content-length': '0' },
      signal,
    });
    if (res.status === 201) return { mounted: true };
    return { mounted: false, location: this.location(res) };
  }

  /**
   * Uploads a blob: one POST then one PUT with the whole body (monolithic), or PATCH chunks then
   * a closing PUT when the body is larger than `chunkSize`. Returns the digest.
   */
  async uploadBlob(repository: string, bytes: Uint8Array, options: UploadOptions = {}): Promise<string> {
    const digest = sha256Digest(bytes);
    const scopes = [repositoryScope(repository, 'pull,push')];
    const { signal } = options;
    let location = options.location;
    if (!location) {
      const res = await this.request({
        method: 'POST',
        url: `${this.url}/v2/${repository}/blobs/uploads/`,
        scopes,
        accept: [202],
        headers: { 'content-length': '0' },
        signal,
      });
      location = this.location(res);
    }
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    let body = bytes;
    if (bytes.length > chunkSize) {
      for (let start = 0; start < bytes.length; start += chunkSize) {
        const chunk = bytes.subarray(start, Math.min(start + chunkSize, bytes.length));
        const res = await this.request({
          method: 'PATCH',
          url: location,
          scopes,
          accept: [202],
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${start}-${start + chunk.length - 1}`,
          },
          body: chunk,
          signal,
        });
        location = this.location(res);
      }
      body = new Uint8Array(0);
    }
    const put = new URL(location);
    put.searchParams.set('digest', digest);
    await this.request({
      method: 'PUT',
      url: put.toString(),
      scopes,
      accept: [201],
      headers: { 'content-type': 'application/octet-stream' },
      body,
      signal,
    });
    return digest;
  }

  private location(res: HttpResponse): string {
    const location = res.headers.get('location');
    if (!location) {
      throw new RegistryHttpError({ method: 'POST', url: redactUrl(res.url), status: res.status, codes: [] });
    }
    return new URL(location, `${this.url}/`).toString();
  }

  private async *pages(
    first: string,
    scopes: readonly Scope[],
    signal: AbortSignal | undefined,
    missingIsEmpty = false,
  ): AsyncGenerator<unknown> {
    let url: string | undefined = first;
    const visited = new Set<string>();
    // A Link back to a page already read would loop forever: treat it as the end.
    while (url && !visited.has(url)) {
      visited.add(url);
      const res = await this.request({
        method: 'GET',
        url,
        scopes,
        accept: missingIsEmpty ? [200, 404] : [200],
        signal,
      });
      if (res.status === 404) {
        return;
      }
      yield parseJson(res);
      url = nextLink(res.headers.get('link'), url);
    }
  }

  /** One logical request: auth (challenge → credentials or token → resend), retries, error mapping. */
  private async request(spec: RequestSpec): Promise<HttpResponse> {
    let scopes = spec.scopes;
    for (let round = 0; ; round++) {
      const { header, token } = await this.authorization(scopes, spec.signal);
      const res = await this.send(spec, header ? { authorization: header } : {});
      if (res.status === 401 && round < 2) {
        const challenges = parseWwwAuthenticate(res.headers.get('www-authenticate') ?? '');
        if (token) this.auth.dropToken(scopes, token);
        const learnt = this.auth.learn(challenges);
        const sentBasic = header?.startsWith('Basic ') === true;
        if (learnt?.scheme === 'bearer') {
          const asked = scopes.length;
          if (learnt.scopes) scopes = [...new Set([...scopes, ...learnt.scopes])];
          // Retry with a (new) token unless a token for exactly these scopes was just refused.
          if (token === undefined || round === 0 || scopes.length > asked) continue;
        } else if (learnt?.scheme === 'basic' && this.auth.credentials && !sentBasic) {
          continue;
        }
        throw new RegistryAuthError(
          failure(spec, res),
          this.auth.credentials ? 'credentials refused' : 'the registry requires credentials',
        );
      }
      if (spec.accept.includes(res.status)) return res;
      const f = failure(spec, res);
      if (res.status === 401 || res.status === 403) {
        throw new RegistryAuthError(f, res.status === 403 ? 'access denied' : 'credentials refused');
      }
      throw new RegistryHttpError(f);
    }
  }

  private async authorization(
    scopes: readonly Scope[],
    signal: AbortSignal | undefined,
  ): Promise<{ header?: string; token?: string }> {
    if (this.auth.scheme === 'basic') {
      const header = this.auth.basicHeader();
      return header ? { header } : {};
    }
    if (this.auth.scheme !== 'bearer') return {};
    const token = await this.auth.token(
      scopes,
      (realm, s) => this.fetchToken(realm, s, signal),
      (res) => {
        const f = failure({ method: 'GET', url: res.url }, res);
        if (res.status === 401 || res.status === 403) {
          throw new RegistryAuthError(f, 'the token service refused the credentials');
        }
        throw new RegistryHttpError(f);
      },
    );
    return { header: `Bearer ${token}`, token };
  }

  private fetchToken(
    realm: BearerRealm,
    scopes: readonly Scope[],
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const url = new URL(realm.realm);
    if (realm.service) url.searchParams.set('service', realm.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const basic = this.auth.basicHeader();
    if (this.auth.credentials) url.searchParams.set('account', this.auth.credentials.username);
    return this.send(
      { method: 'GET', url: url.toString(), scopes: [], accept: [200], signal },
      basic ? { authorization: basic } : {},
    );
  }

  /** One HTTP exchange with retries on 429/5xx and lost connections; honours Retry-After. */
  private async send(spec: RequestSpec, extra: Record<string, string>): Promise<HttpResponse> {
    const headers = { 'user-agent': 'falcon-org', ...spec.headers, ...extra };
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
      let res: HttpResponse;
      try {
        res = await this.transport({
          method: spec.method,
          url: spec.url,
          headers,
          ...(spec.body ? { body: spec.body } : {}),
          signal,
        });
      } catch (error) {
        if (spec.signal?.aborted) throw error;
        if (attempt >= this.retryPolicy.retries) {
          throw new RegistryNetworkError(spec.method, redactUrl(spec.url), { cause: error });
        }
        await sleep(retryDelay(this.retryPolicy, attempt, undefined), undefined, { signal: spec.signal });
        continue;
      }
      if (isRetryableStatus(res.status) && attempt < this.retryPolicy.retries) {
        const after = parseRetryAfter(res.headers.get('retry-after'), this.now());
        await sleep(retryDelay(this.retryPolicy, attempt, after), undefined, { signal: spec.signal });
        continue;
      }
      return res;
    }
  }
}

function parseJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(Buffer.from(res.body).toString('utf8'));
  } catch (error) {
    throw new RegistryHttpError(
      { method: 'GET', url: redactUrl(res.url), status: res.status, codes: [{ code: 'INVALID_JSON' }] },
      { cause: error },
    );
  }
}

function failure(spec: { method: string; url: string }, res: HttpResponse): HttpFailure {
  let codes: RegistryErrorCode[] = [];
  try {
    const body = JSON.parse(Buffer.from(res.body).toString('utf8')) as { errors?: unknown };
    if (Array.isArray(body.errors)) {
      codes = body.errors
        .filter(
          (e): e is { code: string; message?: unknown } => typeof (e as { code?: unknown }).code === 'string',
        )
        .map((e) => ({ code: e.code, ...(typeof e.message === 'string' ? { message: e.message } : {}) }));
    }
  } catch {
    // not a registry error body
  }
  return { method: spec.method, url: redactUrl(spec.url), status: res.status, codes };
}
