import type { HttpResponse } from './transport.js';
import type { AuthChallenge } from './www-authenticate.js';

/** Username and password (or token) for basic auth, also sent to a bearer token service. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** What a request is about, in the token service's terms, e.g. `repository:library/nginx:pull`. */
export type Scope = string;

export function repositoryScope(repository: string, actions: 'pull' | 'pull,push' | 'delete'): Scope {
  return `repository:${repository}:${actions}`;
}

export const CATALOG_SCOPE: Scope = 'registry:catalog:*';

interface CachedToken {
  readonly token: string;
  /** Epoch ms after which we no longer send it. */
  readonly renewAt: number;
}

/** Where and how bearer tokens are fetched, learnt from the registry's first challenge. */
export interface BearerRealm {
  readonly realm: string;
  readonly service?: string;
}

/** Token service answer (docker token spec); `access_token` is the OAuth2 spelling. */
interface TokenResponse {
  token?: unknown;
  access_token?: unknown;
  expires_in?: unknown;
}

/** Seconds a token lives when the service does not say (docker token spec default). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Renew this long before expiry, so a token never expires in flight. */
const RENEW_MARGIN_MS = 10_000;

export type TokenFetcher = (realm: BearerRealm, scopes: readonly Scope[]) => Promise<HttpResponse>;

/**
 * The auth state of one registry: which scheme it wants (learnt from its challenges) and the
 * bearer tokens already obtained, one per set of scopes. Concurrent requests for the same scopes
 * share one token request.
 */
export class AuthState {
  scheme: 'none' | 'basic' | 'bearer' | 'unknown' = 'unknown';
  bearer: BearerRealm | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();

  constructor(
    readonly credentials: RegistryCredentials | undefined,
    private readonly now: () => number,
  ) {}

  /** Learns from a 401's challenges; returns false when there is nothing we could do differently. */
  learn(challenges: readonly AuthChallenge[]): { scheme: 'basic' | 'bearer'; scopes?: Scope[] } | undefined {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const realm = bearer?.params.realm;
    if (bearer && realm) {
      this.scheme = 'bearer';
      this.bearer = { realm, ...(bearer.params.service ? { service: bearer.params.service } : {}) };
      const scope = bearer.params.scope;
      return { scheme: 'bearer', ...(scope ? { scopes: scope.split(' ').filter(Boolean) } : {}) };
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.scheme = 'basic';
      return { scheme: 'basic' };
    }
    return undefined;
  }

  basicHeader(): string | undefined {
    if (!this.credentials) return undefined;
    const { username, password } = this.credentials;
    return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }

  /** A valid cached token for these scopes, if any (never fetches). */
  cachedToken(scopes: readonly Scope[]): string | undefined {
    const cached = this.tokens.get(scopeKey(scopes));
    return cached && cached.renewAt > this.now() ? cached.token : undefined;
  }

  /** Forgets the token for these scopes (the registry rejected it). */
  dropToken(scopes: readonly Scope[], token: string): void {
    const key = scopeKey(scopes);
    if (this.tokens.get(key)?.token === token) this.tokens.delete(key);
  }

  /** The token for these scopes: cached, shared with a concurrent request, or fetched now. */
  async token(
    scopes: readonly Scope[],
    fetchToken: TokenFetcher,
    parseFailure: (r: HttpResponse) => never,
  ): Promise<string> {
    const cached = this.cachedToken(scopes);
    if (cached) return cached;
    const key = scopeKey(scopes);
    let pending = this.pending.get(key);
    if (!pending) {
      const realm = this.bearer;
      if (!realm) throw new Error('bearer token requested before the registry named its realm');
      pending = (async () => {
        const started = this.now();
        const response = await fetchToken(realm, scopes);
        if (response.status !== 200) return parseFailure(response);
        let body: TokenResponse;
        try {
          body = JSON.parse(Buffer.from(response.body).toString('utf8')) as TokenResponse;
        } catch (error) {
          throw new Error(`token service ${realm.realm} answered with invalid JSON`, { cause: error });
        }
        const token = typeof body.token === 'string' ? body.token : body.access_token;
        if (typeof token !== 'string' || token === '') {
          throw new Error(`token service ${realm.realm} answered without a token`);
        }
        const seconds =
          typeof body.expires_in === 'number' && body.expires_in > 0
            ? body.expires_in
            : DEFAULT_TOKEN_SECONDS;
        const entry = { token, renewAt: started + Math.max(seconds * 1000 - RENEW_MARGIN_MS, seconds * 500) };
        this.tokens.set(key, entry);
        return entry;
      })().finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return (await pending).token;
  }
}

function scopeKey(scopes: readonly Scope[]): string {
  return [...new Set(scopes)].sort().join(' ');
}
