/**
 * Whether Falcon's view of a host is current. Falcon keeps a host for weeks after its sensor last
 * checked in, so a sensor that was removed, or an instance that was stopped, still appears; an online
 * sensor checks in continuously. A host last seen longer ago than `coverage.hostStaleAfterHours` does
 * not count as protection. A host without a readable `last_seen` is taken as current (Falcon always
 * sends one; there is nothing to judge staleness by).
 */
import type { FalconHost } from './model.js';

/** Default of `coverage.hostStaleAfterHours`. */
export const DEFAULT_HOST_STALE_AFTER_HOURS = 24;

/** Whole hours since the host was last seen, or undefined when Falcon gave no readable time. */
export function hoursSinceSeen(host: FalconHost, nowSeconds: number): number | undefined {
  if (host.lastSeen === undefined) return undefined;
  const seen = Date.parse(host.lastSeen);
  if (Number.isNaN(seen)) return undefined;
  return Math.max(0, Math.floor((nowSeconds * 1000 - seen) / 3_600_000));
}

/** True when the host was last seen more than `staleAfterHours` ago. */
export function isStale(host: FalconHost, nowSeconds: number, staleAfterHours: number): boolean {
  if (host.lastSeen === undefined) return false;
  const seen = Date.parse(host.lastSeen);
  return !Number.isNaN(seen) && nowSeconds * 1000 - seen > staleAfterHours * 3_600_000;
}

/** "sensor not seen for 30 hours (last seen 2026-11-28T06:00:00Z)". */
export function notSeenFor(host: FalconHost, nowSeconds: number): string {
  return `sensor not seen for ${hoursSinceSeen(host, nowSeconds) ?? '?'} hours (last seen ${host.lastSeen ?? 'unknown'})`;
}

/** The most recently seen of two hosts (a reinstalled sensor leaves its old host behind). */
export function fresher(a: FalconHost | undefined, b: FalconHost): FalconHost {
  if (a === undefined) return b;
  const at = (h: FalconHost) => (h.lastSeen === undefined ? Infinity : Date.parse(h.lastSeen) || -Infinity);
  return at(b) > at(a) ? b : a;
}
