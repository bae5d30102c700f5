import {
  resolveScope,
  type OrganizationDirectory,
  type Scope,
  type ScopeAccount as DirectoryScopeAccount,
} from '../aws/organization-scope.js';
import type { RunsTableItem } from '../eks/runs-table.js';
import { AdaptiveLimiter } from '../fanout/adaptive.js';
import { mapEachOutcome } from '../fanout/concurrency.js';
import { isTransientError } from '../fanout/throttling.js';
import { reportOf, unknownCell } from './cells.js';
import { indexConnections, judgeEcrRegion } from './ecr.js';
import { judgeEksRegion } from './eks.js';
import { DEFAULT_HOST_STALE_AFTER_HOURS } from './host-freshness.js';
import { CoverageInputError, CoverageScopeError } from './errors.js';
import {
  COVERAGE_FEATURES,
  type AccountReader,
  type CoverageCell,
  type CoverageDeps,
  type CoverageFeature,
  type CoverageOptions,
  type CoverageReason,
  type CoverageReport,
  type Ec2Instance,
  type FalconHost,
  type RegistryConnectionInfo,
  type ReportAccount,
  type ScopeAccount,
} from './model.js';
import { judgeSsmRegion } from './ssm.js';
import { describeError } from '../shared/describe-error.js';

type Unreadable = { readonly unreadable: string };

/** One account's part of the report: the account and every cell of it, items included. */
export interface AccountResult {
  readonly account: ReportAccount;
  readonly cells: readonly CoverageCell[];
}

/** What a run knows besides the cells: handed to the writers with the cells they were given. */
export interface CoverageRun {
  readonly generatedAt: string;
  readonly scope: CoverageReport['scope'];
  /** In scope order (sorted by ID). */
  readonly accounts: readonly ReportAccount[];
  readonly ous?: Readonly<Record<string, string>>;
}

type Reached = { readonly read: ReportAccount } | { readonly skipped: ScopeAccount };

/** Receives each account's result as soon as it is read; the next accounts wait for it (backpressure). */
export type AccountSink = (result: AccountResult) => Promise<void> | void;

/**
 * Builds the coverage report in memory: {@link readCoverage} with every account kept. For tests and
 * small organizations; the CLI and the function stream the accounts to a `ReportStore` instead.
 *
 * @example
 * const report = await buildCoverageReport(deps, {
 *   scope: { partition: 'aws', homeRegion: 'us-east-1', targets: ['r-ab12'], excludeAccounts: [] },
 *   features: { ssmDistributor: ['us-east-1'], ecrConnections: 'enabled' },
 *   associationName: 'falcon-org-falcon-sensor', deploymentId: 'falcon-org',
 * });
 */
export async function buildCoverageReport(
  deps: CoverageDeps,
  options: CoverageOptions,
): Promise<CoverageReport> {
  const cells: CoverageCell[] = [];
  const run = await readCoverage(deps, options, (result) => {
    cells.push(...result.cells);
  });
  return assembleReport(run, cells);
}

/** A report from a run and its cells (sorted here; totals and the verdict counted here). */
export function assembleReport(run: CoverageRun, cells: CoverageCell[]): CoverageReport {
  return reportOf(run, cells);
}

/**
 * Reads the coverage of the organization: resolves the accounts in scope, reads the tenant-wide
 * facts once (registry connections, runs table), then every account × region × feature with bounded
 * concurrency, handing each account's cells to `sink` as soon as they are read (nothing of an account
 * is kept here after that). An account, region or feature that cannot be read becomes `unknown` cells
 * with the reason; only an unreadable organization (or an `--account` not in scope) fails the run.
 */
export async function readCoverage(
  deps: CoverageDeps,
  options: CoverageOptions,
  sink: AccountSink,
): Promise<CoverageRun> {
  const features = COVERAGE_FEATURES.filter((f) => options.features[f] !== undefined);
  const signal = options.signal;
  let scope: Scope;
  let managementId: string | undefined;
  try {
    [scope, managementId] = await Promise.all([
      resolveScope(deps.directory, {
        targets: options.scope.targets,
        excludeAccounts: options.scope.excludeAccounts,
      }),
      // Any account of the organization may describe it; if it cannot, the report goes on without
      // the management account's own listing (the accounts in scope are read all the same).
      deps.directory.managementAccountId?.().catch(() => undefined),
    ]);
  } catch (error) {
    throw new CoverageScopeError(`could not read the organization: ${describeError(error)}`, {
      cause: error,
    });
  }
  const inScope: readonly DirectoryScopeAccount[] = scope.accounts;
  let accounts: readonly ScopeAccount[] = inScope.map((a) => ({
    id: a.id,
    ...(a.name !== undefined ? { name: a.name } : {}),
    ...(a.parent !== undefined ? { parent: a.parent } : {}),
  }));
  if (options.accounts !== undefined) {
    const known = new Set(accounts.map((a) => a.id));
    const missing = options.accounts.filter((id) => !known.has(id));
    if (missing.length > 0) {
      throw new CoverageInputError(
        `--account ${missing.join(', ')}: not in scope (organization.targets ${options.scope.targets.join(', ')}, ACTIVE accounts, minus organization.excludeAccounts)`,
      );
    }
    const wanted = new Set(options.accounts);
    accounts = accounts.filter((a) => wanted.has(a.id));
  }

  const [connections, runs] = await Promise.all([
    features.includes('ecrConnections')
      ? readOrReason(() => deps.registries.listConnections(signal))
      : undefined,
    features.includes('eksProtection') && deps.runsTable !== undefined
      ? readOrReason(() => deps.runsTable?.list() ?? Promise.resolve([]))
      : undefined,
  ]);
  const tenant: TenantFacts = {
    connections:
      connections === undefined || isUnreadable(connections)
        ? (connections ?? { unreadable: 'not read' })
        : indexConnections(connections),
    runs: runs === undefined ? undefined : isUnreadable(runs) ? runs : groupRuns(runs),
  };

  const notReached = (account: ScopeAccount): AccountResult =>
    unreadableAccount(options, features, account, {
      code: 'account-unreadable',
      text: 'Not read: the report was stopped before this account was reached.',
    });
  const outcomes = await mapEachOutcome(
    accounts,
    options.concurrency ?? 8,
    async (account): Promise<Reached> => {
      let result: AccountResult;
      try {
        result =
          account.id === managementId && options.managementAccount === 'delegated-admin'
            ? unreadableAccount(options, features, account, MANAGEMENT_UNREACHED)
            : await readAccount(deps, options, features, tenant, account);
      } catch (error) {
        // Not expected (every read catches its own errors), but one account never fails the report.
        result = unreadableAccount(options, features, account, {
          code: 'account-unreadable',
          text: `The account could not be read: ${describeError(error)}`,
        });
      }
      await sink(result);
      return { read: result.account };
    },
    (account): Reached => ({ skipped: account }),
    signal,
  );
  const reportAccounts: ReportAccount[] = [];
  for (const outcome of outcomes) {
    if ('read' in outcome) {
      reportAccounts.push(outcome.read);
    } else {
      const result = notReached(outcome.skipped);
      await sink(result);
      reportAccounts.push(result.account);
    }
  }
  // The management account is listed even when it is not in scope: excluded, with the reason.
  if (
    managementId !== undefined &&
    !inScope.some((a) => a.id === managementId) &&
    (options.accounts === undefined || options.accounts.includes(managementId))
  ) {
    reportAccounts.push(await managementListing(deps.directory, scope, managementId, options));
    reportAccounts.sort((a, b) => a.id.localeCompare(b.id));
  }
  const ous: Record<string, string> = {};
  for (const a of reportAccounts) {
    const name = a.parent === undefined ? undefined : deps.directory.ouName?.(a.parent);
    if (a.parent !== undefined && name !== undefined) ous[a.parent] = name;
  }
  return {
    generatedAt: deps.now().toISOString(),
    scope: {
      ...options.scope,
      features,
      ...(options.accounts !== undefined ? { accountFilter: [...options.accounts] } : {}),
    },
    accounts: reportAccounts,
    ...(Object.keys(ous).length > 0 ? { ous } : {}),
  };
}

interface TenantFacts {
  readonly connections: ReadonlyMap<string, RegistryConnectionInfo> | Unreadable;
  /** account → region → items; undefined when there is no runs table. */
  readonly runs: ReadonlyMap<string, readonly RunsTableItem[]> | Unreadable | undefined;
}

async function readAccount(
  deps: CoverageDeps,
  options: CoverageOptions,
  features: readonly CoverageFeature[],
  tenant: TenantFacts,
  account: ScopeAccount,
): Promise<AccountResult> {
  const signal = options.signal;
  let reader: AccountReader;
  try {
    reader = await deps.readers.open(account, signal);
  } catch (error) {
    return unreadableAccount(options, features, account, {
      code: 'account-unreadable',
      text: `The account could not be read: ${describeError(error)}. Check that the coverage role exists in the account (coverage.enabled, then deploy) and trusts this principal.`,
    });
  }
  // One budget for the account's calls, whatever feature they are for: features run side by side. The
  // budget halves when the account's APIs throttle; a throttled or transiently failed call is tried
  // again here, and only here (the SDK clients make one attempt), so tries never multiply.
  const perRegion = options.regionConcurrency ?? 8;
  const budget = new AdaptiveLimiter({
    initial: perRegion,
    max: perRegion * 2,
    maxAttempts: CALL_ATTEMPTS,
    isRetryable: isTransientError,
  });
  const call = <T>(read: () => Promise<T>): Promise<T> => budget.run(read);
  const needsHosts = features.includes('ssmDistributor') || features.includes('eksProtection');
  const [hosts, ownership] = await Promise.all([
    needsHosts
      ? readOrReason(() => deps.falconHosts.hostsInAccount(account.id, signal))
      : Promise.resolve([] as readonly FalconHost[]),
    features.includes('ecrConnections')
      ? readOrReason(() => call(() => reader.ecrOwnership(signal)))
      : Promise.resolve(undefined),
  ]);
  const nowSeconds = Math.floor(deps.now().getTime() / 1000);
  const perFeature = await Promise.all(
    features.map(async (feature): Promise<readonly CoverageCell[]> => {
      const wanted = options.features[feature] ?? [];
      let regions: readonly string[];
      try {
        regions = wanted === 'enabled' ? await call(() => reader.enabledRegions(signal)) : wanted;
      } catch (error) {
        return [
          unknownCell(
            { accountId: account.id, region: options.scope.homeRegion, feature },
            {
              code: 'account-unreadable',
              text: `The account's enabled regions could not be listed: ${describeError(error)}`,
            },
          ),
        ];
      }
      const judge = async (region: string): Promise<CoverageCell> => {
        switch (feature) {
          case 'ssmDistributor':
            return await ssmCell(reader, call, options, account.id, region, hosts, nowSeconds);
          case 'ecrConnections':
            return judgeEcrRegion({
              accountId: account.id,
              region,
              connections: tenant.connections,
              ownership,
              deploymentId: options.deploymentId,
            });
          case 'eksProtection': {
            const reads = await eksRegionReads(reader, call, region, signal);
            return judgeEksRegion({
              accountId: account.id,
              region,
              ...reads,
              // An unreadable runs table leaves the region's clusters unknown; no cluster, nothing to judge.
              runs: reads.clusters.length > 0 ? runsOf(tenant.runs, account.id, region) : undefined,
              hosts,
              nowSeconds,
              hostStaleAfterHours: options.hostStaleAfterHours ?? DEFAULT_HOST_STALE_AFTER_HOURS,
            });
          }
        }
      };
      return Promise.all(
        regions.map(async (region) => {
          try {
            return await judge(region);
          } catch (error) {
            return unknownCell(
              { accountId: account.id, region, feature },
              { code: 'region-unreadable', text: `Could not be read: ${describeError(error)}` },
            );
          }
        }),
      );
    }),
  );
  return { account: { ...account, readable: true }, cells: perFeature.flat() };
}

/** Runs one read within the account's budget (retried there when throttled or transiently failed). */
type Call = <T>(read: () => Promise<T>) => Promise<T>;

/** Tries per AWS call: the one retry layer (the readers' SDK clients make a single attempt each). */
export const CALL_ATTEMPTS = 5;

async function ssmCell(
  reader: AccountReader,
  call: Call,
  options: CoverageOptions,
  accountId: string,
  region: string,
  hosts: readonly FalconHost[] | Unreadable,
  nowSeconds: number,
): Promise<CoverageCell> {
  const signal = options.signal;
  const [association, instances, managed] = await Promise.all([
    call(() => reader.association(region, options.associationName, signal)),
    call(() => reader.runningInstances(region, signal)),
    call(() => reader.managedInstances(region, signal)),
  ]);
  const compliance =
    association !== undefined && instances.length > 0
      ? await call(() => reader.associationCompliance(region, association.associationId, signal))
      : [];
  return judgeSsmRegion({
    accountId,
    region,
    associationName: options.associationName,
    association,
    instances,
    managed,
    compliance,
    hosts,
    nowSeconds,
    hostStaleAfterHours: options.hostStaleAfterHours ?? DEFAULT_HOST_STALE_AFTER_HOURS,
  });
}

/** Clusters of the region and, only when there are some, the running instances (to find their nodes). */
async function eksRegionReads(
  reader: AccountReader,
  call: Call,
  region: string,
  signal: AbortSignal | undefined,
): Promise<{ clusters: readonly string[]; instances: readonly Ec2Instance[] }> {
  const clusters = await call(() => reader.clusters(region, signal));
  const instances = clusters.length > 0 ? await call(() => reader.runningInstances(region, signal)) : [];
  return { clusters, instances };
}

/** Unknown cells for every feature of an account that could not be read at all. */
function unreadableAccount(
  options: CoverageOptions,
  features: readonly CoverageFeature[],
  account: ScopeAccount,
  reason: CoverageReason,
): AccountResult {
  const cells = features.flatMap((feature) => {
    const wanted = options.features[feature] ?? [];
    // "Every enabled region" cannot be listed without reading the account: one cell in the home region.
    const regions = wanted === 'enabled' ? [options.scope.homeRegion] : wanted;
    return regions.map((region) => unknownCell({ accountId: account.id, region, feature }, reason));
  });
  return { account: { ...account, readable: false, reason }, cells };
}

/** In scope, but out of this deployment's reach: a delegated administrator cannot deploy there. */
const MANAGEMENT_UNREACHED: CoverageReason = {
  code: 'management-account-unreached',
  text: "The organization's management account: service-managed StackSets never deploy there and a delegated administrator cannot, so neither the read role nor the features' member resources are there. Deploy from the management account (aws.accountType: management, targeting the root) to cover it, or list it in organization.excludeAccounts.",
};

/**
 * The management account when it is not in scope: listed as excluded (no cells), with why. Its name and
 * OU come from the scope's walk when it was seen there (excluded), else from Organizations.
 */
async function managementListing(
  directory: OrganizationDirectory,
  scope: Scope,
  id: string,
  options: CoverageOptions,
): Promise<ReportAccount> {
  const seen = scope.skipped.find((a) => a.id === id);
  let name = seen?.name;
  if (seen === undefined) {
    try {
      name = (await directory.describeAccount?.(id))?.name;
    } catch {
      // The name is a courtesy: the account is listed by its ID when Organizations does not describe it.
    }
  }
  let text: string;
  if (seen?.reason === 'excluded') {
    text =
      "The organization's management account, excluded by organization.excludeAccounts: nothing of falcon-org is deployed or read there.";
  } else if (options.managementAccount === 'delegated-admin') {
    text =
      "The organization's management account is not under organization.targets, and a delegated administrator cannot deploy to it: nothing of falcon-org is deployed or read there.";
  } else {
    text =
      "The organization's management account is not under organization.targets: nothing of falcon-org is deployed or read there. Target the root ID (with aws.accountType: management) to cover it.";
  }
  return {
    id,
    ...(name !== undefined ? { name } : {}),
    ...(seen?.parent !== undefined ? { parent: seen.parent } : {}),
    readable: false,
    excluded: true,
    reason: { code: 'account-excluded', text },
  };
}

function runsOf(
  runs: TenantFacts['runs'],
  accountId: string,
  region: string,
): readonly RunsTableItem[] | undefined {
  if (runs === undefined) return undefined;
  if (isUnreadable(runs)) throw new Error(`the EKS runs table could not be read: ${runs.unreadable}`);
  return runs.get(`${accountId}#${region}`) ?? [];
}

function groupRuns(items: readonly RunsTableItem[]): Map<string, RunsTableItem[]> {
  const map = new Map<string, RunsTableItem[]>();
  for (const item of items) {
    const key = `${item.accountId}#${item.region}`;
    const list = map.get(key);
    if (list) list.push(item);
    else map.set(key, [item]);
  }
  return map;
}

async function readOrReason<T>(read: () => Promise<T>): Promise<T | Unreadable> {
  try {
    return await read();
  } catch (error) {
    return { unreadable: describeError(error) };
  }
}

function isUnreadable(value: unknown): value is Unreadable {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    'unreadable' in value &&
    !(value instanceof Map)
  );
}
