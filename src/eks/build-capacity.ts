/**
 * How many deployer builds CodeBuild takes right now, so a sweep never starts more than the home
 * account's concurrent-build quota: the limit (`rollout.concurrentBuilds`, else the CodeBuild quota
 * read from Service Quotas) and the builds already in flight (every run holds its cluster's lock
 * from before StartBuild until the deployer releases it, so the unexpired locks of the runs table
 * count queued and running builds alike; a build that died keeps counting until its lock expires,
 * which errs on the side of starting fewer).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  type ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { describeError } from '../shared/describe-error.js';
import { clusterKey } from './run-contract.js';
import type { ClusterRef, PacingLeaseTable, RunsTable } from './runs-table.js';

/**
 * The quota the deployer project's builds count against: "Concurrently running builds for
 * Linux/Small environment" (the project is LINUX_CONTAINER, BUILD_GENERAL1_SMALL), service code
 * `codebuild`. Beyond it CodeBuild queues up to five times as many builds, then refuses.
 */
export const CODEBUILD_SMALL_QUOTA = { ServiceCode: 'codebuild', QuotaCode: 'L-9D07B6EF' } as const;

/** When the quota cannot be read: the lowest CodeBuild gives a new account (its quota documentation). */
export const FALLBACK_CONCURRENT_BUILDS = 5;

export interface BuildLimit {
  readonly limit: number;
  /** Where the number comes from, for the log and the verdicts. */
  readonly source: string;
}

export interface BuildCapacity {
  limit(): Promise<BuildLimit>;
  /** Deployer builds in flight now (queued or running), and whether a cluster has one. */
  inFlight(): Promise<BuildsInFlight>;
  /**
   * Runs `work` (count the builds in flight, start what fits) while no other invocation does the
   * same, so invocations at once never pass the limit together; `busy` when another one held the
   * turn for longer than it is worth waiting. `until` (epoch ms): start nothing after it, the turn
   * may be someone else's by then.
   */
  exclusively<T>(work: (until: number) => Promise<T>): Promise<{ readonly value: T } | 'busy'>;
}

export interface BuildsInFlight {
  readonly count: number;
  /** True when the cluster's own run is in flight (its lock is held). @default - not known */
  readonly holds?: (ref: ClusterRef) => boolean;
}

/** Reads the CodeBuild quota of the home account and region. */
export interface QuotaReader {
  concurrentBuilds(): Promise<number>;
}

export class ServiceQuotasReader implements QuotaReader {
  constructor(private readonly client: Pick<ServiceQuotasClient, 'send'>) {}

  /** The applied value; a quota never adjusted may only have its AWS default. */
  async concurrentBuilds(): Promise<number> {
    let value: number | undefined;
    try {
      value = (await this.client.send(new GetServiceQuotaCommand({ ...CODEBUILD_SMALL_QUOTA }))).Quota?.Value;
    } catch (error) {
      if ((error as { name?: string }).name !== 'NoSuchResourceException') throw error;
    }
    value ??= (await this.client.send(new GetAWSDefaultServiceQuotaCommand({ ...CODEBUILD_SMALL_QUOTA })))
      .Quota?.Value;
    if (value === undefined || !Number.isFinite(value) || value < 1) {
      throw new Error(
        `Service Quotas answered no usable value for ${CODEBUILD_SMALL_QUOTA.ServiceCode}/${CODEBUILD_SMALL_QUOTA.QuotaCode}`,
      );
    }
    return Math.floor(value);
  }
}

export interface BuildCapacitySettings {
  /** `rollout.concurrentBuilds`: wins over the quota (leave room for other projects, or go lower). */
  readonly override?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * How long an invocation waits for the pacing lease, and how often it asks. The one holding it
   * only counts locks and starts builds. @default 30 s, every 1 s
   */
  readonly leaseWaitMs?: number;
  readonly leasePollMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * How long the pacing lease lasts if its holder dies holding it: longer than starting a sweep's
 * builds takes, short enough that the next look (5 minutes later) finds it free.
 */
export const PACING_LEASE_SECONDS = 240;

export class RunsTableBuildCapacity implements BuildCapacity {
  constructor(
    private readonly table: Pick<RunsTable, 'list'> & PacingLeaseTable,
    private readonly quota: QuotaReader | undefined,
    private readonly settings: BuildCapacitySettings = {},
  ) {}

  async limit(): Promise<BuildLimit> {
    if (this.settings.override !== undefined) {
      return { limit: this.settings.override, source: 'features.eksProtection.rollout.concurrentBuilds' };
    }
    if (!this.quota) {
      return { limit: FALLBACK_CONCURRENT_BUILDS, source: 'no quota reader; the lowest CodeBuild quota' };
    }
    try {
      return {
        limit: await this.quota.concurrentBuilds(),
        source: `CodeBuild quota ${CODEBUILD_SMALL_QUOTA.QuotaCode}`,
      };
    } catch (error) {
      return {
        limit: FALLBACK_CONCURRENT_BUILDS,
        source: `the CodeBuild quota could not be read (${describeError(error)}); paced to ${FALLBACK_CONCURRENT_BUILDS}, the lowest CodeBuild gives, until it can — or set rollout.concurrentBuilds`,
      };
    }
  }

  async inFlight(): Promise<BuildsInFlight> {
    const nowSeconds = Math.floor((this.settings.now ?? Date.now)() / 1000);
    // Strongly consistent: the locks the last holder of the turn took a moment ago must count.
    const items = await this.table.list({ consistent: true });
    const held = new Set(
      items
        .filter((i) => i.lockRunId !== undefined && (i.lockExpiresAt ?? 0) >= nowSeconds)
        .map((i) => clusterKey(i.accountId, i.region, i.cluster)),
    );
    return { count: held.size, holds: (ref) => held.has(clusterKey(ref.accountId, ref.region, ref.cluster)) };
  }

  async exclusively<T>(work: (until: number) => Promise<T>): Promise<{ readonly value: T } | 'busy'> {
    const holder = randomUUID();
    const wait = this.settings.leaseWaitMs ?? 30_000;
    const poll = this.settings.leasePollMs ?? 1_000;
    const sleep = this.settings.sleep ?? ((ms: number) => delay(ms));
    const now = this.settings.now ?? Date.now;
    for (let waited = 0; !(await this.table.takePacingLease(holder, PACING_LEASE_SECONDS)); waited += poll) {
      if (waited >= wait) return 'busy';
      await sleep(poll);
    }
    try {
      // Half the lease: what has not started by then waits for the next look, never past the lease.
      return { value: await work(now() + (PACING_LEASE_SECONDS * 1000) / 2) };
    } finally {
      // A lease left behind expires after PACING_LEASE_SECONDS; what the turn started stands.
      await this.table.releasePacingLease(holder).catch(() => undefined);
    }
  }
}
