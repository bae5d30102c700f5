/**
 * Which accounts of the organization are in scope: every ACTIVE account under the configured targets
 * (the root or OUs, nested OUs followed recursively) minus the excluded ones. Generic over an
 * `OrganizationDirectory` port, so EKS discovery and the coverage report share it; the SDK adapter is
 * in ./organizations-directory.ts.
 *
 * Example:
 * ```ts
 * const accounts = await accountsInScope(new OrganizationsDirectory(orgClient), {
 *   targets: ['r-ab12'], excludeAccounts: ['111111111111'],
 * });
 * ```
 */
import { mapWithConcurrency } from '../fanout/concurrency.js';
import { AwsScopeError } from './errors.js';

/** One account as listed under a parent. */
export interface DirectoryAccount {
  readonly id: string;
  readonly name?: string;
  /** ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION (Organizations' `State`, else `Status`). */
  readonly state: string;
}

/** The part of AWS Organizations scope resolution reads. */
export interface OrganizationDirectory {
  /** Accounts directly under a root or OU (every page). */
  listAccounts(parentId: string): Promise<DirectoryAccount[]>;
  /** OU IDs directly under a root or OU (every page). */
  listChildOus(parentId: string): Promise<string[]>;
  /** The name of an OU listed so far, when the directory knows it. */
  ouName?(ouId: string): string | undefined;
  /** The organization's management account (Organizations `DescribeOrganization`). */
  managementAccountId?(): Promise<string>;
  /** One account by ID (Organizations `DescribeAccount`), for an account not found under the targets. */
  describeAccount?(accountId: string): Promise<DirectoryAccount | undefined>;
}

export interface ScopeSettings {
  /** Root ID (r-…) or OU IDs (ou-…). */
  readonly targets: readonly string[];
  readonly excludeAccounts?: readonly string[];
  /** Parents listed at once. @default 4 (Organizations allows few calls per second) */
  readonly concurrency?: number;
}

export interface ScopeAccount {
  readonly id: string;
  readonly name?: string;
  /** The target (root or OU ID) the account was found under. */
  readonly target: string;
  /** The root or OU the account sits in directly. */
  readonly parent?: string;
}

/** An account found under a target but left out, and why. */
export interface SkippedAccount {
  readonly id: string;
  readonly reason: 'excluded' | 'not-active';
  readonly state?: string;
  readonly name?: string;
  /** The root or OU the account sits in directly. */
  readonly parent?: string;
}

export interface Scope {
  readonly accounts: readonly ScopeAccount[];
  readonly skipped: readonly SkippedAccount[];
}

/** Every in-scope account once (an account under two targets counts once), sorted by ID. */
export async function resolveScope(
  directory: OrganizationDirectory,
  settings: ScopeSettings,
): Promise<Scope> {
  if (settings.targets.length === 0) {
    throw new AwsScopeError('no targets: give the root ID (r-…) or at least one OU ID (ou-…)');
  }
  const excluded = new Set(settings.excludeAccounts ?? []);
  const concurrency = settings.concurrency ?? 4;
  const found = new Map<string, ScopeAccount>();
  const skipped = new Map<string, SkippedAccount>();
  const visited = new Set<string>();
  const parentOf = new Map<string, string>();

  // Breadth-first: one level of OUs at a time, each level's parents listed concurrently.
  let level = settings.targets.map((target) => ({ parent: target, target }));
  while (level.length > 0) {
    const fresh = level.filter((p) => !visited.has(p.parent));
    for (const p of fresh) visited.add(p.parent);
    const children = await mapWithConcurrency(fresh, concurrency, async ({ parent, target }) => {
      try {
        const [accounts, ous] = await Promise.all([
          directory.listAccounts(parent),
          directory.listChildOus(parent),
        ]);
        return { target, parent, accounts, ous };
      } catch (error) {
        throw new AwsScopeError(`could not list the accounts and OUs under ${parent}: ${message(error)}`, {
          cause: error,
        });
      }
    });
    level = [];
    for (const { target, parent, accounts, ous } of children) {
      for (const account of accounts) parentOf.set(account.id, parentOf.get(account.id) ?? parent);
      for (const account of accounts) {
        if (found.has(account.id) || skipped.has(account.id)) continue;
        const where = {
          id: account.id,
          ...(account.name ? { name: account.name } : {}),
          parent: parentOf.get(account.id) ?? target,
        };
        if (excluded.has(account.id)) skipped.set(account.id, { ...where, reason: 'excluded' });
        else if (account.state !== 'ACTIVE') {
          skipped.set(account.id, { ...where, reason: 'not-active', state: account.state });
        } else {
          found.set(account.id, {
            id: account.id,
            ...(account.name ? { name: account.name } : {}),
            target,
            parent: parentOf.get(account.id) ?? target,
          });
        }
      }
      for (const ou of ous) level.push({ parent: ou, target });
    }
  }
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  return { accounts: [...found.values()].sort(byId), skipped: [...skipped.values()].sort(byId) };
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
