import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterVersionNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { OwnershipRecordError } from './errors.js';
import {
  parseLease,
  serializeLease,
  type LeaseAttempt,
  type LeaseGrant,
  type LeaseValue,
  type RunLease,
} from './run-lease.js';

/** The lease parameter kept next to the ownership record (`<record>-lease`). */
export function leaseParameterName(ownershipParameterName: string): string {
  return `${ownershipParameterName}-lease`;
}

/**
 * The run lease in an SSM String parameter. SSM has no conditional write, but it numbers the versions of
 * a parameter atomically, one per successful PutParameter, and that is enough for a compare-and-swap:
 *
 * - No parameter yet: PutParameter with `Overwrite: false` succeeds for exactly one caller.
 * - A held lease (not expired, another holder): wait or give up; nothing is written.
 * - An expired or released lease read at version V: write our lease with `Overwrite: true` and get
 *   version W. Of all runs that read version V, exactly one gets W = V + 1: it holds the lease. The others
 *   lost the race (their value is current for a moment, but it only makes later runs wait, never two
 *   runs work). To be sure version V is the one we read, not a version of a parameter deleted and
 *   created again meanwhile, the winner also reads `name:V` back and compares it with what it read.
 *
 * A loser's write may land after the winner's and stay the current value: the loser remembers it, so
 * its next attempt (withRunLease waits with the same holder ID) does not take it for a leftover of its
 * own; it waits until the winner's release (a version between the two writes) or the winner's expiry.
 *
 * The lease lasts longer than the invocation, so a crashed holder frees it by expiry; a holder releases
 * it by writing an expired value, and only while its own lease has not expired (so it never releases
 * a lease taken over by someone else). The parameter belongs to the handler, like the record.
 */
export class SsmRunLease implements RunLease {
  constructor(
    private readonly ssm: SSMClient,
    private readonly parameterName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Values this instance wrote that lost their race: their version, and the lease that won. */
  private readonly lostWrites = new Map<string, LostWrite>();

  async tryAcquire(holder: string, nowMs: number, ttlMs: number): Promise<LeaseAttempt> {
    const grant: LeaseGrant = { holder, expiresAtMs: nowMs + ttlMs };
    const current = await this.read(this.parameterName);
    if (current === undefined) {
      try {
        await this.put(serializeLease(grant), false);
        return { acquired: true, grant };
      } catch (error) {
        if (!isNamed(error, ParameterAlreadyExists, 'ParameterAlreadyExists')) throw error;
        const now = await this.read(this.parameterName);
        const value = parseLease(now?.text ?? '');
        return { acquired: false, holder: value.holder, expiresAtMs: value.expiresAtMs };
      }
    }
    const value = parseLease(current.text);
    // A write of ours that lost a race and is still the current value stands for the winner's lease,
    // not for a leftover of ours: held until the winner released it (a version between the winner's
    // and ours) or its own lease expired.
    const lost = this.lostWrites.get(current.text);
    if (
      lost !== undefined &&
      lost.ownVersion === current.version &&
      value.expiresAtMs > nowMs &&
      lost.winner.expiresAtMs > nowMs &&
      !(await this.releasedBetween(lost))
    ) {
      return { acquired: false, holder: lost.winner.holder, expiresAtMs: lost.winner.expiresAtMs };
    }
    // Our own holder ID on a live lease: Lambda retries an asynchronous invocation (CloudFormation's,
    // EventBridge's) with the same request ID only after the earlier attempt ended, so that lease is a
    // leftover of ours and is taken over like an expired one (still through the version check).
    if (value.expiresAtMs > nowMs && value.holder !== holder) {
      return { acquired: false, holder: value.holder, expiresAtMs: value.expiresAtMs };
    }
    const text = serializeLease(grant);
    const written = await this.put(text, true);
    let winner: { text: string; version: number } | undefined;
    if (written === current.version + 1) {
      const before = await this.read(`${this.parameterName}:${current.version}`);
      if (before?.text === current.text) return { acquired: true, grant };
      // The parameter was deleted and created again: whoever wrote the version before ours holds it.
      winner = before;
    } else {
      // Someone else's write got the version after the one read: that run holds the lease.
      winner = await this.read(`${this.parameterName}:${current.version + 1}`);
    }
    const shown = parseLease(winner?.text ?? '');
    this.lostWrites.set(text, {
      ownVersion: written,
      winnerVersion: winner?.version ?? written - 1,
      winner: shown,
    });
    return { acquired: false, holder: shown.holder, expiresAtMs: shown.expiresAtMs };
  }

  /** Whether the winner of a race this instance lost wrote its release before our losing write landed. */
  private async releasedBetween(lost: LostWrite): Promise<boolean> {
    const first = Math.max(lost.winnerVersion + 1, lost.ownVersion - MAX_VERSIONS_SCANNED);
    for (let version = first; version < lost.ownVersion; version++) {
      const seen = await this.read(`${this.parameterName}:${version}`);
      const value = parseLease(seen?.text ?? '');
      if (value.holder === lost.winner.holder && value.expiresAtMs === 0) return true;
    }
    return false;
  }

  async release(grant: LeaseGrant): Promise<void> {
    // Past its expiry the lease may already be someone else's: leave it alone.
    if (this.now() >= grant.expiresAtMs) return;
    await this.put(serializeLease({ holder: grant.holder, expiresAtMs: 0 }), true);
  }

  private async read(name: string): Promise<{ text: string; version: number } | undefined> {
    try {
      const out = await this.ssm.send(new GetParameterCommand({ Name: name }));
      const text = out.Parameter?.Value;
      const version = out.Parameter?.Version;
      if (text === undefined || version === undefined) return undefined;
      return { text, version };
    } catch (error) {
      if (isNamed(error, ParameterNotFound, 'ParameterNotFound')) return undefined;
      if (isNamed(error, ParameterVersionNotFound, 'ParameterVersionNotFound')) return undefined;
      throw this.wrap(error, 'read');
    }
  }

  private async put(value: string, overwrite: boolean): Promise<number> {
    try {
      return await this.send(value, overwrite);
    } catch (error) {
      if (isNamed(error, ParameterAlreadyExists, 'ParameterAlreadyExists')) throw error;
      throw this.wrap(error, 'write');
    }
  }

  private async send(value: string, overwrite: boolean): Promise<number> {
    const out = await this.ssm.send(
      new PutParameterCommand({
        Name: this.parameterName,
        Value: value,
        Type: 'String',
        Overwrite: overwrite,
        ...(overwrite
          ? {}
          : { Description: 'falcon-org: serialises ecr-connect runs of this account (do not edit)' }),
      }),
    );
    return out.Version ?? 0;
  }

  private wrap(error: unknown, what: 'read' | 'write'): OwnershipRecordError {
    const text = error instanceof Error ? error.message : String(error);
    return new OwnershipRecordError(`could not ${what} SSM parameter ${this.parameterName}: ${text}`, {
      cause: error,
    });
  }
}

/** A losing write of this instance: its version, and the lease (and version) that won the race. */
interface LostWrite {
  readonly ownVersion: number;
  readonly winnerVersion: number;
  readonly winner: LeaseValue;
}

/** How many versions between the winner's and ours are searched for the winner's release. */
const MAX_VERSIONS_SCANNED = 8;

function isNamed(error: unknown, type: abstract new (...args: never[]) => Error, name: string): boolean {
  return error instanceof type || (error instanceof Error && error.name === name);
}
