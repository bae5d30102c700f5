/**
 * Instants and spans of time as the event engine compares them. Registries stamp events with
 * nanoseconds (docker-registry) or seconds (ECR) and with any UTC offset; the engine keeps every
 * instant as one fixed-width UTC string (`2026-01-02T03:04:05.123456789Z`), so string order is time
 * order and nothing is lost to JavaScript's millisecond Date.
 */

/** A normalized instant: `YYYY-MM-DDTHH:MM:SS.fffffffffZ` (UTC, nine fractional digits). */
export type Instant = string;

/**
 * When something was observed, as an interval of the registry's clock: an event is one instant
 * (`lo === hi`); a scan or a lookup saw the registry at some moment between `lo` and `hi`.
 */
export interface Span {
  readonly lo: Instant;
  readonly hi: Instant;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp (any offset, up to nanoseconds); undefined when it is not one. */
export function parseInstant(text: string): Instant | undefined {
  const match = RFC3339.exec(text.trim());
  if (!match) return undefined;
  const [, date = '', time = '', fraction = '', offset = 'Z'] = match;
  const ms = Date.parse(`${date}T${time}${offset.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  const seconds = new Date(ms).toISOString().slice(0, 19);
  return `${seconds}.${fraction.padEnd(9, '0')}Z`;
}

/** The instant of a Date (millisecond precision). */
export function instantOf(date: Date): Instant {
  return `${date.toISOString().slice(0, 23)}000000Z`;
}

/** The instant `ms` milliseconds later (earlier when negative); sub-millisecond digits are kept. */
export function shiftInstant(instant: Instant, ms: number): Instant {
  const base = Date.parse(`${instant.slice(0, 23)}Z`);
  const shifted = new Date(base + ms).toISOString().slice(0, 23);
  return `${shifted}${instant.slice(23)}`;
}

/** An HTTP `Date` header (seconds) as the span of that second. */
export function spanOfHttpDate(header: string | null | undefined): Span | undefined {
  if (!header) return undefined;
  const ms = Date.parse(header);
  if (Number.isNaN(ms)) return undefined;
  const lo = instantOf(new Date(ms));
  return { lo, hi: shiftInstant(lo, 999) };
}

/** The smallest span holding both. */
export function joinSpans(a: Span, b: Span): Span {
  return { lo: a.lo < b.lo ? a.lo : b.lo, hi: a.hi > b.hi ? a.hi : b.hi };
}

export type Order = 'before' | 'after' | 'overlaps';

/** Whether an instant is certainly before, certainly after, or within what a span observed. */
export function orderOf(at: Instant, span: Span): Order {
  if (at < span.lo) return 'before';
  if (at > span.hi) return 'after';
  return 'overlaps';
}
