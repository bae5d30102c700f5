import { describe, expect, it } from 'vitest';
import { accountSlot, spreadSchedule } from '../../src/ecr/schedule-spread.js';

const accounts = Array.from({ length: 2000 }, (_, i) => String(100_000_000_000 + i * 7919));

describe('spreadSchedule', () => {
  it('turns a daily rate into a cron at a minute and hour derived from the account, the same every time', () => {
    const a = spreadSchedule('rate(1 day)', '123456789012');
    const { minute, hour } = accountSlot('123456789012');
    expect(a).toBe(`cron(${minute} ${hour} * * ? *)`);
    expect(spreadSchedule('rate(1 day)', '123456789012')).toBe(a);
  });

  it('spreads an organization over the day (no minute of the day holds many accounts)', () => {
    const slots = accounts.map((a) => accountSlot(a));
    for (const s of slots) {
      expect(s.minute).toBeGreaterThanOrEqual(0);
      expect(s.minute).toBeLessThan(60);
      expect(s.hour).toBeGreaterThanOrEqual(0);
      expect(s.hour).toBeLessThan(24);
    }
    const perMinuteOfDay = new Map<number, number>();
    for (const s of slots)
      perMinuteOfDay.set(s.hour * 60 + s.minute, (perMinuteOfDay.get(s.hour * 60 + s.minute) ?? 0) + 1);
    // 2000 accounts over 1440 minutes: a fair spread puts at most a handful in any minute.
    expect(Math.max(...perMinuteOfDay.values())).toBeLessThanOrEqual(8);
    expect(perMinuteOfDay.size).toBeGreaterThan(800);
  });

  it('keeps the period of hourly rates that divide a day, at an offset', () => {
    const { minute, hour } = accountSlot('123456789012');
    expect(spreadSchedule('rate(1 hour)', '123456789012')).toBe(`cron(${minute} * * * ? *)`);
    expect(spreadSchedule('rate(60 minutes)', '123456789012')).toBe(`cron(${minute} * * * ? *)`);
    expect(spreadSchedule('rate(6 hours)', '123456789012')).toBe(`cron(${minute} ${hour % 6}/6 * * ? *)`);
    expect(spreadSchedule('rate(24 hours)', '123456789012')).toBe(`cron(${minute} ${hour} * * ? *)`);
  });

  it('leaves cron expressions and rates that do not divide a day unchanged', () => {
    expect(spreadSchedule('cron(0 3 * * ? *)', '123456789012')).toBe('cron(0 3 * * ? *)');
    expect(spreadSchedule('rate(7 hours)', '123456789012')).toBe('rate(7 hours)');
    expect(spreadSchedule('rate(2 days)', '123456789012')).toBe('rate(2 days)');
  });
});
