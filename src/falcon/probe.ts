import type { FalconApi } from './api.js';
import { FalconCredentialsRejectedError, FalconScopeError } from './errors.js';
import { probeFor, type FalconScope } from './scopes.js';

/** What one scope's probe showed. */
export const ScopeState = {
  Granted: 'granted',
  Missing: 'missing',
  /** The probe could not tell (Falcon unreachable, a server error): not verified, not blamed. */
  Unverified: 'unverified',
  /** A write scope: no read proves it, and a pre-flight never writes. */
  NotProbed: 'not-probed',
} as const;
export type ScopeState = (typeof ScopeState)[keyof typeof ScopeState];

export interface ScopeResult {
  readonly scope: FalconScope;
  readonly state: ScopeState;
  readonly detail?: string;
}

/** How a client's probe ended: `rejected` when /oauth2/token refused the client itself. */
export type ClientProbe =
  | { readonly outcome: 'rejected'; readonly reason: string }
  | { readonly outcome: 'probed'; readonly scopes: readonly ScopeResult[] };

/**
 * Proves what an API client may do with one cheap read per read scope (ids only, `limit=1`). A token
 * refused by `/oauth2/token` (400/401/403) means the client itself was rejected, and nothing is blamed
 * on a scope; a 403 to a read with a valid token is that scope missing.
 */
export async function probeClient(
  api: FalconApi,
  scopes: readonly FalconScope[],
  signal?: AbortSignal,
): Promise<ClientProbe> {
  const results: ScopeResult[] = [];
  for (const scope of scopes) {
    const probe = probeFor(scope);
    if (probe === undefined) {
      results.push({ scope, state: ScopeState.NotProbed });
      continue;
    }
    try {
      await api.request({
        method: 'GET',
        path: probe.path,
        query: probe.query,
        ...(signal !== undefined ? { signal } : {}),
      });
      results.push({ scope, state: ScopeState.Granted });
    } catch (error) {
      if (error instanceof FalconCredentialsRejectedError)
        return { outcome: 'rejected', reason: error.message };
      if (error instanceof FalconScopeError) results.push({ scope, state: ScopeState.Missing });
      else {
        results.push({
          scope,
          state: ScopeState.Unverified,
          detail: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  return { outcome: 'probed', scopes: results };
}
