import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLease, withRunLease } from '../../src/ecr/run-lease.js';
import { leaseParameterName, SsmRunLease } from '../../src/ecr/ssm-run-lease.js';
import { EcrConnectHarness, LEASE_PARAMETER, PARAMETER } from '../handlers/ecr-connect-harness.js';

/** The lease against the harness's SSM fake, which numbers versions as SSM does. */
describe('SsmRunLease', () => {
  let h: EcrConnectHarness;
  beforeEach(async () => {
    h = await EcrConnectHarness.start();
  });
  afterEach(async () => {
    await h.close();
  });
  const lease = (now = Date.now) =>
    new SsmRunLease(new SSMClient({ region: 'us-east-1' }), LEASE_PARAMETER, now);

  it('is named next to the ownership record', () => {
    expect(leaseParameterName(PARAMETER)).toBe(`${PARAMETER}-lease`);
  });

  it('the first run creates it; a second run sees it held until it expires or is released', async () => {
    const now = Date.now();
    const first = await lease().tryAcquire('a', now, 60_000);
    const second = await lease().tryAcquire('b', now, 60_000);

    expect(first).toMatchObject({ acquired: true, grant: { holder: 'a', expiresAtMs: now + 60_000 } });
    expect(second).toEqual({ acquired: false, holder: 'a', expiresAtMs: now + 60_000 });
    if (!first.acquired) throw new Error('unreachable');
    await lease().release(first.grant);
    expect(parseLease(h.parameters.get(LEASE_PARAMETER) ?? '')).toEqual({ holder: 'a', expiresAtMs: 0 });
    await expect(lease().tryAcquire('b', Date.now(), 60_000)).resolves.toMatchObject({ acquired: true });
  });

  it('exactly one of many runs racing for an expired lease gets it', async () => {
    const expired = JSON.stringify({ holder: 'crashed', expiresAtMs: 1 });
    h.parameters.set(LEASE_PARAMETER, expired);
    h.history.set(LEASE_PARAMETER, [expired]);

    const attempts = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((holder) => lease().tryAcquire(holder, Date.now(), 60_000)),
    );

    expect(attempts.filter((a) => a.acquired)).toHaveLength(1);
    // Every loser was told about a live holder, never about the crashed one.
    for (const a of attempts) if (!a.acquired) expect(a.expiresAtMs).toBeGreaterThan(Date.now());
  });

  it('exactly one of many runs racing for a lease that does not exist yet gets it', async () => {
    const attempts = await Promise.all(
      ['a', 'b', 'c'].map((holder) => lease().tryAcquire(holder, Date.now(), 60_000)),
    );
    expect(attempts.filter((a) => a.acquired)).toHaveLength(1);
  });

  it('a run that read version V of a parameter deleted and created again does not win by the version number alone', async () => {
    const expired = JSON.stringify({ holder: 'old', expiresAtMs: 1 });
    h.parameters.set(LEASE_PARAMETER, expired);
    h.history.set(LEASE_PARAMETER, [expired]);
    const real = new SSMClient({ region: 'us-east-1' });
    let reads = 0;
    // Between this run's read and its write the parameter is deleted and created again by another run.
    const interleaved = {
      send: async (command: GetParameterCommand | PutParameterCommand): Promise<unknown> => {
        const out: unknown = await real.send(command as GetParameterCommand);
        if (command instanceof GetParameterCommand && ++reads === 1) {
          const fresh = JSON.stringify({ holder: 'new', expiresAtMs: Date.now() + 60_000 });
          h.parameters.set(LEASE_PARAMETER, fresh);
          h.history.set(LEASE_PARAMETER, [fresh]);
        }
        return out;
      },
    } as unknown as SSMClient;

    const result = await new SsmRunLease(interleaved, LEASE_PARAMETER).tryAcquire('late', Date.now(), 60_000);

    // Its write became version 2 = 1 + 1, but version 1 is not what it read.
    expect(h.history.get(LEASE_PARAMETER)).toHaveLength(2);
    expect(result.acquired).toBe(false);
  });

  it('a retried invocation (same request ID) takes over the lease its crashed attempt left', async () => {
    const crashed = await lease().tryAcquire('req-1', Date.now(), 600_000);
    expect(crashed.acquired).toBe(true);

    const retried = await lease().tryAcquire('req-1', Date.now(), 600_000);
    const other = await lease().tryAcquire('req-2', Date.now(), 600_000);

    expect(retried.acquired).toBe(true);
    expect(other).toMatchObject({ acquired: false, holder: 'req-1' });
  });

  it('a run that lost a race does not take over its own losing write on its next attempt', async () => {
    const expired = JSON.stringify({ holder: 'crashed', expiresAtMs: 1 });
    h.parameters.set(LEASE_PARAMETER, expired);
    h.history.set(LEASE_PARAMETER, [expired]);
    const real = new SSMClient({ region: 'us-east-1' });
    let winner: Awaited<ReturnType<SsmRunLease['tryAcquire']>> | undefined;
    // Run "b" reads version 1; before its write lands, run "a" reads version 1 too and writes version 2.
    const late = {
      send: async (command: GetParameterCommand | PutParameterCommand): Promise<unknown> => {
        if (command instanceof PutParameterCommand && winner === undefined) {
          winner = await lease().tryAcquire('a', Date.now(), 600_000);
        }
        return real.send(command as GetParameterCommand);
      },
    } as unknown as SSMClient;
    const b = new SsmRunLease(late, LEASE_PARAMETER);

    const lost = await b.tryAcquire('b', Date.now(), 600_000);
    expect(winner).toMatchObject({ acquired: true });
    // The loser names the winner, not itself.
    expect(lost).toMatchObject({ acquired: false, holder: 'a' });
    // b's losing write (version 3) is the current value; "a" still works under the lease.
    expect(parseLease(h.parameters.get(LEASE_PARAMETER) ?? '').holder).toBe('b');

    // b waits and tries again with the same holder (withRunLease's loop): the lease is still a's.
    const again = await b.tryAcquire('b', Date.now(), 600_000);
    expect(again).toMatchObject({ acquired: false, holder: 'a' });

    // Once a releases, b gets it.
    if (winner?.acquired !== true) throw new Error('unreachable');
    await lease().release(winner.grant);
    await expect(b.tryAcquire('b', Date.now(), 600_000)).resolves.toMatchObject({ acquired: true });
  });

  it('a run whose losing write landed after the winner had already released it takes the lease next time', async () => {
    const expired = JSON.stringify({ holder: 'crashed', expiresAtMs: 1 });
    h.parameters.set(LEASE_PARAMETER, expired);
    h.history.set(LEASE_PARAMETER, [expired]);
    const real = new SSMClient({ region: 'us-east-1' });
    let done = false;
    // Before b's write lands, run "a" takes the lease (version 2), works and releases it (version 3).
    const late = {
      send: async (command: GetParameterCommand | PutParameterCommand): Promise<unknown> => {
        if (command instanceof PutParameterCommand && !done) {
          done = true;
          const a = await lease().tryAcquire('a', Date.now(), 600_000);
          if (!a.acquired) throw new Error('a did not get the lease');
          await lease().release(a.grant);
        }
        return real.send(command as GetParameterCommand);
      },
    } as unknown as SSMClient;
    const b = new SsmRunLease(late, LEASE_PARAMETER);

    expect(await b.tryAcquire('b', Date.now(), 600_000)).toMatchObject({ acquired: false, holder: 'a' });
    // b's write (version 4) is current, but nobody works under it: b's next attempt takes it.
    expect(h.history.get(LEASE_PARAMETER)).toHaveLength(4);
    await expect(b.tryAcquire('b', Date.now(), 600_000)).resolves.toMatchObject({ acquired: true });
    // Anyone else still waits for b.
    await expect(lease().tryAcquire('c', Date.now(), 600_000)).resolves.toMatchObject({
      acquired: false,
      holder: 'b',
    });
  });

  it('does not release a lease once its own has expired (it may be someone else’s by then)', async () => {
    let clock = 1_000;
    const mine = lease(() => clock);
    const attempt = await mine.tryAcquire('a', clock, 100);
    if (!attempt.acquired) throw new Error('not acquired');
    clock = 2_000;
    await mine.release(attempt.grant);
    expect(parseLease(h.parameters.get(LEASE_PARAMETER) ?? '')).toEqual({ holder: 'a', expiresAtMs: 1_100 });
  });

  it('withRunLease releases after the work, also when it throws, and waits for a held lease', async () => {
    await expect(
      withRunLease(lease(), { holder: 'a', ttlMs: 60_000, waitMs: 0 }, () =>
        Promise.reject(new Error('boom')),
      ),
    ).rejects.toThrow('boom');
    expect(parseLease(h.parameters.get(LEASE_PARAMETER) ?? '').expiresAtMs).toBe(0);

    const held = await lease().tryAcquire('b', Date.now(), 60_000);
    if (!held.acquired) throw new Error('not acquired');
    setTimeout(() => void lease().release(held.grant), 50);
    const waited = await withRunLease(
      lease(),
      { holder: 'c', ttlMs: 60_000, waitMs: 2_000, pollMs: 10 },
      () => Promise.resolve('done'),
    );
    expect(waited).toEqual({ ran: true, value: 'done' });

    const blocker = await lease().tryAcquire('d', Date.now(), 60_000);
    expect(blocker.acquired).toBe(true);
    const gaveUp = await withRunLease(lease(), { holder: 'e', ttlMs: 60_000, waitMs: 30, pollMs: 10 }, () =>
      Promise.resolve('never'),
    );
    expect(gaveUp).toMatchObject({
      ran: false,
      reason: expect.stringMatching(/^another ecr-connect run \(d\)/) as unknown,
    });
  });
});
