/**
 * Drains the queue the central bus puts ECR image actions on into the catalog (the same engine as
 * the registry notifications). Every message comes from another account: its account must be in
 * the organization's scope and its region one the catalog's ECR events are configured for, or it is
 * refused and counted. A message is deleted once its event is applied, ignored or refused; one whose
 * batch could not be applied (store down, registry unreachable) stays, and SQS delivers it again
 * after its visibility timeout (and to the dead-letter queue after too many attempts).
 *
 * Several followers may drain one queue at once: SQS hands each message to one of them, and the
 * store's per-registry lock and event marks keep the catalog consistent whatever the order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { equalJitterDelay } from '../../shared/backoff.js';
import { describeWithCause } from '../errors.js';
import type { CatalogStore } from '../store/store.js';
import { applyEvents, type ApplyOptions } from './apply.js';
import { parseEcrEvent } from './ecr-events.js';
import type { ListenerLog } from './listener.js';
import { RejectReason, type RegistryEvent, type Rejection } from './model.js';
import type { RegistryProbe } from './probe.js';

export interface QueueMessage {
  readonly id: string;
  readonly body: string;
  /** What deleting the message takes (SQS receipt handle). */
  readonly receipt: string;
}

/** The queue, as the follower uses it (SQS: ./sqs-queue.ts). */
export interface EventQueue {
  /** A name safe to show and to record rejections under. */
  readonly name: string;
  /** Up to `max` (at most 10) messages, waiting up to `waitSeconds` for the first. */
  receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<QueueMessage[]>;
  remove(receipts: readonly string[]): Promise<void>;
}

/** Who may send events: the organization's accounts in scope, in the configured regions. */
export interface FollowScope {
  hasAccount(account: string): Promise<boolean>;
  readonly regions: ReadonlySet<string>;
}

export interface FollowOptions {
  readonly queue: EventQueue;
  readonly store: CatalogStore;
  readonly scope: FollowScope;
  /** The registry an event came from, to look things up in (ECR of that account and region). */
  readonly probeFor: (account: string, region: string) => RegistryProbe;
  readonly apply?: Omit<ApplyOptions, 'signal'>;
  readonly log: (entry: ListenerLog) => void;
  /** Return once a receive finds the queue empty (a drain), instead of following forever. */
  readonly untilEmpty?: boolean;
  /** Messages gathered into one round. @default 100 */
  readonly roundSize?: number;
  /** Long-poll wait of a receive. @default 20 */
  readonly waitSeconds?: number;
  /** Backoff after a round that could not apply everything: first and longest ceiling (equal jitter). @default 1 s and 60 s */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

export interface FollowStats {
  readonly messages: number;
  /** Events taken through the engine. */
  readonly handled: number;
  readonly ignored: number;
  readonly rejected: number;
  /** Messages left on the queue to be delivered again, over all rounds. */
  readonly retried: number;
  readonly registryRequests: number;
}

interface Round {
  readonly byRegistry: Map<
    string,
    { account: string; region: string; events: RegistryEvent[]; receipts: string[] }
  >;
  readonly rejections: Map<string, { rejections: Rejection[]; receipts: string[] }>;
  readonly done: string[];
}

/** Follows the queue until aborted (or, with `untilEmpty`, until it is empty). */
export async function followQueue(options: FollowOptions): Promise<FollowStats> {
  const stats = { messages: 0, handled: 0, ignored: 0, rejected: 0, retried: 0, registryRequests: 0 };
  const retry = options.retry ?? { initialMs: 1000, maxMs: 60_000 };
  const now = options.now ?? (() => new Date());
  const { signal } = options;
  // Failed rounds in a row; the wait before the next comes from the project's one backoff.
  let failures = 0;
  const pause = (): Promise<void> =>
    sleep(equalJitterDelay(++failures, retry.initialMs, retry.maxMs, Math.random()), undefined, {
      signal,
    }).catch(() => undefined);
  while (!signal?.aborted) {
    const messages = await receiveRound(options);
    if (messages.length === 0) {
      if (options.untilEmpty) break;
      continue;
    }
    stats.messages += messages.length;
    let round: Round;
    try {
      round = await sortRound(messages, options, stats);
    } catch (error) {
      // The organization could not be read: nothing of this round can be judged, so all of it stays.
      options.log({
        level: 'error',
        message: `could not check the senders against the organization's scope: ${describeWithCause(error)}`,
      });
      stats.retried += messages.length;
      await pause();
      continue;
    }
    let kept = 0;
    for (const [source, { rejections, receipts }] of round.rejections) {
      try {
        await options.store.recordRejections(source, rejections, now().toISOString());
        round.done.push(...receipts);
      } catch (error) {
        kept += receipts.length;
        options.log({
          level: 'error',
          message: `could not record refused events: ${describeWithCause(error)}`,
        });
      }
    }
    for (const [registry, group] of round.byRegistry) {
      try {
        const result = await applyEvents(
          group.events,
          options.probeFor(group.account, group.region),
          options.store,
          {
            ...options.apply,
            ...(signal ? { signal } : {}),
            now,
          },
        );
        round.done.push(...group.receipts);
        stats.handled += group.events.length;
        stats.registryRequests += result.registryRequests;
        const s = result.commit.run?.summary;
        options.log({
          level: 'info',
          message: s
            ? `${registry}: applied ${group.events.length} events: ${s.added} images added, ${s.removed} removed, ${s.moved} tags moved, ${s.tagsAdded} tags added, ${s.tagsRemoved} removed, ${s.inventoried} newly inventoried`
            : `${registry}: applied ${group.events.length} events: no change to the catalog`,
          counts: result.commit.counts,
        });
        for (const r of result.commit.rejections)
          options.log({ level: 'warn', message: `refused an event: ${r.detail}` });
      } catch (error) {
        if (signal?.aborted) break;
        kept += group.receipts.length;
        options.log({
          level: 'error',
          message: `${registry}: could not apply ${group.events.length} events (left on the queue for another attempt): ${describeWithCause(error)}`,
        });
      }
    }
    try {
      if (round.done.length > 0) await options.queue.remove(round.done);
    } catch (error) {
      // Not deleted, they come back: applied again, they are duplicates and change nothing.
      options.log({ level: 'warn', message: describeWithCause(error) });
    }
    stats.retried += kept;
    if (kept > 0) await pause();
    else failures = 0;
  }
  return stats;
}

/** One long-polled receive, then more without waiting until the round is full or the queue empty. */
async function receiveRound(options: FollowOptions): Promise<QueueMessage[]> {
  const size = options.roundSize ?? 100;
  const messages: QueueMessage[] = [];
  let waitSeconds = options.untilEmpty ? 0 : (options.waitSeconds ?? 20);
  while (messages.length < size) {
    const got = await options.queue.receive(
      Math.min(10, size - messages.length),
      waitSeconds,
      options.signal,
    );
    if (got.length === 0) break;
    messages.push(...got);
    waitSeconds = 0;
  }
  return messages;
}

/** Parses and checks each message: ignored, refused (per source), or an event of a registry in scope. */
async function sortRound(
  messages: readonly QueueMessage[],
  options: FollowOptions,
  stats: { ignored: number; rejected: number },
): Promise<Round> {
  const round: Round = { byRegistry: new Map(), rejections: new Map(), done: [] };
  const refuse = (source: string, rejection: Rejection, receipt: string): void => {
    const entry = round.rejections.get(source) ?? { rejections: [], receipts: [] };
    entry.rejections.push(rejection);
    entry.receipts.push(receipt);
    round.rejections.set(source, entry);
    stats.rejected += 1;
    options.log({
      level: 'warn',
      message: `refused a message of ${options.queue.name}: ${rejection.detail}`,
    });
  };
  const inScope = new Map<string, boolean>();
  for (const message of messages) {
    const parsed = parseEcrEvent(message.body);
    if (parsed.kind === 'rejected') {
      refuse(options.queue.name, parsed.rejection, message.receipt);
      continue;
    }
    const { account, region } = parsed;
    const source = `ecr://${account}/${region}`;
    if (!options.scope.regions.has(region)) {
      refuse(
        source,
        {
          reason: RejectReason.RegionOutOfScope,
          detail: `event from region ${region}, which catalog.ecrEvents.regions does not name`,
        },
        message.receipt,
      );
      continue;
    }
    let member = inScope.get(account);
    if (member === undefined) {
      member = await options.scope.hasAccount(account);
      inScope.set(account, member);
    }
    if (!member) {
      refuse(
        source,
        {
          reason: RejectReason.AccountOutOfScope,
          detail: `event from account ${account}, which is not in the organization's scope (targets, excluded accounts, ACTIVE)`,
        },
        message.receipt,
      );
      continue;
    }
    if (parsed.kind === 'ignored') {
      stats.ignored += 1;
      round.done.push(message.receipt);
      continue;
    }
    const group = round.byRegistry.get(parsed.event.registry) ?? {
      account,
      region,
      events: [],
      receipts: [],
    };
    group.events.push(parsed.event);
    group.receipts.push(message.receipt);
    round.byRegistry.set(parsed.event.registry, group);
  }
  return round;
}
