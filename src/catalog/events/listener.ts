/**
 * The endpoint a distribution registry's `notifications.endpoints` posts to: it keeps the events in the
 * store's inbox, answers, and applies them afterwards, in batches, from a bounded in-memory queue.
 *
 * Answers (docker-registry retries every answer but 2xx/3xx, with its own backoff):
 * - 202: the events are kept in the store and queued (events it does not use, such as pulls and
 *   blobs, are counted);
 * - 400: the body is not a notification envelope (logged; a registry never sends one);
 * - 401: no or a wrong bearer token (compared in constant time);
 * - 413: the body is larger than `maxBodyBytes`;
 * - 503: the queue is full, or the store is down or cannot keep them (the registry sends the events
 *   again later).
 * Events accepted and not yet applied are in the store (`holdEvents`) before the 202 goes out and
 * leave it once applied: a listener that dies loses none; the next one applies them when it starts
 * (a second delivery of an event is a duplicate to the engine).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { equalJitterDelay } from '../../shared/backoff.js';
import { CatalogStoreError, describeWithCause } from '../errors.js';
import type { CatalogStore } from '../store/store.js';
import { applyEvents, type ApplyOptions, type ApplyResult } from './apply.js';
import { MalformedEnvelopeError, parseNotification } from './distribution.js';
import { RejectReason, type RegistryEvent, type Rejection } from './model.js';
import type { RegistryProbe } from './probe.js';

export interface ListenerLog {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly [field: string]: unknown;
}

export interface ListenerOptions {
  readonly probe: RegistryProbe;
  readonly store: CatalogStore;
  /** The bearer token the registry sends (its endpoint's `headers.Authorization`). */
  readonly token: string;
  /** @default '/events' */
  readonly path?: string;
  /** Events held at most; beyond, requests get 503. @default 10000 */
  readonly queueSize?: number;
  /** Events applied in one transaction at most. @default 500 */
  readonly batchSize?: number;
  /** @default 1 MiB */
  readonly maxBodyBytes?: number;
  readonly apply?: Omit<ApplyOptions, 'signal'>;
  readonly log: (entry: ListenerLog) => void;
  /** Backoff after failed batches: first and longest ceiling (equal jitter). @default 500 ms and 30 s */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  readonly now?: () => Date;
}

export interface ListenerStats {
  readonly received: number;
  /** Events taken through the engine (applied, unchanged, stale, duplicate, excluded, settled). */
  readonly handled: number;
  readonly ignored: number;
  readonly rejected: number;
  readonly queued: number;
  readonly storeUp: boolean;
  readonly registryRequests: number;
}

const digestOf = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Refusals held for the store at most (while it is down); beyond, they are only counted and logged. */
const MAX_PENDING_REJECTIONS = 1000;

/**
 * Tries of one batch before it is given up (its events refused as `gave-up`, out of the inbox): a batch
 * that fails every time, not because the store is down, would otherwise block every listener after
 * it for good. With the default backoff, about ten minutes.
 */
export const MAX_BATCH_TRIES = 20;

export class EventListener {
  private readonly queue: RegistryEvent[] = [];
  private readonly rejections: Rejection[] = [];
  private readonly expected: Buffer;
  private readonly path: string;
  private readonly queueSize: number;
  private readonly batchSize: number;
  private readonly maxBodyBytes: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly controller = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private storeUp = true;
  private stopping = false;
  private counts = { received: 0, handled: 0, ignored: 0, rejected: 0, registryRequests: 0 };

  constructor(private readonly options: ListenerOptions) {
    // Hashing both sides gives equal lengths, so the comparison takes the same time whatever was sent.
    this.expected = digestOf(options.token);
    this.path = options.path ?? '/events';
    this.queueSize = options.queueSize ?? 10_000;
    this.batchSize = options.batchSize ?? 500;
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.retry = options.retry ?? { initialMs: 500, maxMs: 30_000 };
  }

  stats(): ListenerStats {
    return { ...this.counts, queued: this.queue.length, storeUp: this.storeUp };
  }

  /** The request handler for `http.createServer`. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.answer(req, res).catch((error: unknown) => {
      this.options.log({ level: 'error', message: `request failed: ${String(error)}` });
      if (!res.headersSent) respond(res, 500, 'internal error');
    });
  };

  /** Starts applying queued events. */
  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Stops taking events and applies what is queued, for at most `drainMs`; returns how many
   * events were left unapplied.
   */
  async stop(drainMs = 10_000): Promise<number> {
    this.stopping = true;
    this.wake?.();
    const drained = this.loop ?? Promise.resolve();
    const timer = sleep(drainMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([drained.then(() => 'done' as const), timer])) === 'timeout')
      this.controller.abort();
    await drained.catch(() => undefined);
    return this.queue.length;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://listener');
    if (url.pathname !== this.path) return respond(res, 404, 'not found');
    if (req.method !== 'POST') return respond(res, 405, 'use POST', { allow: 'POST' });
    if (!this.authorized(req.headers.authorization)) {
      this.options.log({
        level: 'warn',
        message: 'refused a notification without the right bearer token',
        from: req.socket.remoteAddress,
      });
      return respond(res, 401, 'unauthorized', { 'www-authenticate': 'Bearer' });
    }
    const body = await readBody(req, this.maxBodyBytes);
    if (body === undefined) return respond(res, 413, `the body is larger than ${this.maxBodyBytes} bytes`);
    let parsed;
    try {
      parsed = parseNotification(body, this.options.probe.registry);
    } catch (error) {
      if (!(error instanceof MalformedEnvelopeError)) throw error;
      this.counts.rejected += 1;
      this.hold([{ reason: RejectReason.Malformed, detail: `request body: ${error.message}` }]);
      this.options.log({
        level: 'warn',
        message: `refused a notification: ${error.message}`,
        bytes: body.length,
      });
      return respond(res, 400, error.message);
    }
    if (this.stopping) return respond(res, 503, 'shutting down', { 'retry-after': '5' });
    if (!this.storeUp) return respond(res, 503, 'the catalog store is down', { 'retry-after': '5' });
    if (this.queue.length + parsed.events.length > this.queueSize) {
      return respond(res, 503, 'the queue is full', { 'retry-after': '1' });
    }
    if (!(await this.keep(parsed.events))) {
      return respond(res, 503, 'the catalog store is down', { 'retry-after': '5' });
    }
    this.counts.received += parsed.events.length;
    this.counts.ignored += parsed.ignored;
    this.counts.rejected += parsed.rejected.length;
    this.hold(parsed.rejected);
    for (const r of parsed.rejected)
      this.options.log({ level: 'warn', message: `refused an event: ${r.detail}` });
    this.queue.push(...parsed.events);
    if (parsed.events.length > 0 || parsed.rejected.length > 0) this.wake?.();
    respond(res, 202, 'accepted');
  }

  /** Writes accepted events to the store's inbox; false (and the store marked down) when it cannot. */
  private async keep(events: readonly RegistryEvent[]): Promise<boolean> {
    if (events.length === 0) return true;
    try {
      await this.options.store.holdEvents(this.options.probe.registry, events, this.at());
      return true;
    } catch (error) {
      if (!(error instanceof CatalogStoreError)) throw error;
      if (this.storeUp) {
        this.options.log({
          level: 'error',
          message: `could not keep accepted events, answering 503 until the store is back: ${describeWithCause(error)}`,
          storeDown: true,
        });
      }
      this.storeUp = false;
      this.wake?.();
      return false;
    }
  }

  private at(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  private hold(rejections: readonly Rejection[]): void {
    const room = Math.max(0, MAX_PENDING_REJECTIONS - this.rejections.length);
    this.rejections.push(...rejections.slice(0, room));
  }

  private authorized(header: string | undefined): boolean {
    const match = /^Bearer (.+)$/i.exec(header ?? '');
    return timingSafeEqual(digestOf(match?.[1] ?? ''), this.expected) && match !== null;
  }

  private async run(): Promise<void> {
    // Failed batches in a row; the wait before the next try comes from the project's one backoff.
    let failures = 0;
    // What an earlier listener accepted and did not apply is read first (again after a failure).
    let inboxRead = false;
    const { signal } = this.controller;
    while (!signal.aborted) {
      if (!inboxRead) {
        try {
          await this.readInbox();
          inboxRead = true;
        } catch (error) {
          if (signal.aborted || this.stopping) return;
          await this.failed(error, ++failures, 'could not read the events accepted before', signal);
          continue;
        }
      }
      if (this.queue.length === 0 && this.rejections.length === 0) {
        if (this.stopping) return;
        // Idle; unless the store is down, then the step below asks it whether it is back.
        if (this.storeUp) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
      }
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await this.flushRejections();
        if (batch.length > 0) {
          const result = await applyEvents(batch, this.options.probe, this.options.store, {
            ...this.options.apply,
            signal,
          });
          this.queue.splice(0, batch.length);
          this.report(batch.length, result);
          await this.release(batch);
        } else if (!this.storeUp) {
          // Nothing queued while the store was down: ask it (cheaply) whether it is back.
          await this.options.store.heldEvents(this.options.probe.registry);
        }
        if (!this.storeUp) this.options.log({ level: 'info', message: 'the catalog store answers again' });
        this.storeUp = true;
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        if (batch.length > 0 && !(error instanceof CatalogStoreError) && failures >= MAX_BATCH_TRIES) {
          await this.giveUp(batch, error);
          failures = 0;
          continue;
        }
        const what =
          batch.length > 0
            ? `could not apply ${batch.length} events (kept)`
            : 'the catalog store does not answer';
        await this.failed(error, failures, what, signal);
      }
    }
  }

  /** Logs a failed step, marks the store down when it was the store, and waits the backoff. */
  private async failed(error: unknown, failures: number, what: string, signal: AbortSignal): Promise<void> {
    const wait = equalJitterDelay(failures, this.retry.initialMs, this.retry.maxMs, Math.random());
    const storeDown = error instanceof CatalogStoreError;
    if (storeDown) this.storeUp = false;
    this.options.log({
      level: 'error',
      message: `${what}, retried in ${wait} ms: ${describeWithCause(error)}`,
      storeDown,
    });
    await sleep(wait, undefined, { signal }).catch(() => undefined);
  }

  /** A batch that failed {@link MAX_BATCH_TRIES} times in a row: refused, out of the queue and the inbox. */
  private async giveUp(batch: readonly RegistryEvent[], error: unknown): Promise<void> {
    this.queue.splice(0, batch.length);
    this.counts.rejected += batch.length;
    const detail = `applying it failed ${MAX_BATCH_TRIES} times: ${describeWithCause(error)}`;
    this.hold(batch.map(() => ({ reason: RejectReason.GaveUp, detail })));
    this.options.log({
      level: 'error',
      message: `gave up on ${batch.length} events after ${MAX_BATCH_TRIES} tries (the next \`catalog scan\` catches what they changed): ${describeWithCause(error)}`,
    });
    await this.release(batch);
  }

  /**
   * Takes applied events out of the inbox. Should that fail they stay there and the next listener
   * applies them again, which the engine counts as duplicates: logged, not retried.
   */
  private async release(batch: readonly RegistryEvent[]): Promise<void> {
    try {
      await this.options.store.releaseEvents(
        this.options.probe.registry,
        batch.map((e) => e.id),
      );
    } catch (error) {
      this.options.log({
        level: 'warn',
        message: `applied ${batch.length} events but could not take them out of the store's inbox (the next listener applies them again, as duplicates): ${describeWithCause(error)}`,
      });
    }
  }

  /** Queues what the inbox holds that is not queued yet (left by a listener that stopped or died). */
  private async readInbox(): Promise<void> {
    const held = await this.options.store.heldEvents(this.options.probe.registry);
    const queued = new Set(this.queue.map((e) => e.id));
    const fresh = held.filter((e) => !queued.has(e.id));
    if (fresh.length === 0) return;
    this.queue.unshift(...fresh);
    this.options.log({
      level: 'info',
      message: `${fresh.length} events accepted before and not applied yet: applying them first`,
    });
  }

  private async flushRejections(): Promise<void> {
    if (this.rejections.length === 0) return;
    const pending = this.rejections.splice(0);
    try {
      await this.options.store.recordRejections(this.options.probe.registry, pending, this.at());
    } catch (error) {
      this.rejections.unshift(...pending);
      throw error;
    }
  }

  private report(events: number, result: ApplyResult): void {
    const { commit } = result;
    this.counts.handled += events;
    this.counts.registryRequests += result.registryRequests;
    const s = commit.run?.summary;
    this.options.log({
      level: 'info',
      message: s
        ? `applied ${events} events: ${s.added} images added, ${s.removed} removed, ${s.moved} tags moved, ${s.tagsAdded} tags added, ${s.tagsRemoved} removed, ${s.inventoried} newly inventoried`
        : `applied ${events} events: no change to the catalog`,
      counts: commit.counts,
      registryRequests: result.registryRequests,
    });
    for (const r of commit.rejections)
      this.options.log({ level: 'warn', message: `refused an event: ${r.detail}` });
  }
}

function respond(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${message}\n`);
}

/** The body as text, or undefined when it is longer than `limit` bytes (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
