import {
  resolveScope,
  type OrganizationDirectory,
  type Scope,
  type ScopeSettings,
} from './organization-scope.js';

/**
 * The organization scope, resolved once and reused for `ttlMs` (a warm Lambda answering a burst of
 * events asks Organizations once, not once per event). A failed resolution is not cached.
 */
export class ScopeCache {
  private cached: { at: number; scope: Promise<Scope> } | undefined;

  constructor(
    private readonly directory: OrganizationDirectory,
    private readonly settings: ScopeSettings,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async scope(): Promise<Scope> {
    const at = this.now();
    if (!this.cached || at - this.cached.at >= this.ttlMs) {
      const scope = resolveScope(this.directory, this.settings);
      this.cached = { at, scope };
      scope.catch(() => {
        if (this.cached?.scope === scope) this.cached = undefined;
      });
    }
    return this.cached.scope;
  }

  async has(accountId: string): Promise<boolean> {
    return (await this.scope()).accounts.some((a) => a.id === accountId);
  }
}
