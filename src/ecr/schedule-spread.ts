import { createHash } from 'node:crypto';

/** A position in the day derived from the account ID: the same every time, spread evenly over accounts. */
export function accountSlot(accountId: string): { readonly minute: number; readonly hour: number } {
  const n = createHash('sha256').update(`falcon-org schedule ${accountId}`).digest().readUInt32BE(0);
  return { minute: n % 60, hour: Math.floor(n / 60) % 24 };
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

/**
 * The repair schedule of one account: a `rate(...)` expression turned into the equivalent `cron(...)`
 * at an offset derived from the account ID, so the accounts of an organization do not all call Falcon at
 * the same minute (a rate schedule fires relative to when its rule was created, and StackSets create the
 * rules of thousands of accounts within minutes). Rates that do not divide a day evenly, and cron
 * expressions (the user chose the time), are returned unchanged.
 *
 * @example
 * spreadSchedule('rate(1 day)', '123456789012'); // 'cron(M H * * ? *)' with M, H from the account ID
 */
export function spreadSchedule(expression: string, accountId: string): string {
  const m = RATE.exec(expression.trim());
  if (!m) return expression;
  const value = Number(m[1]);
  const unit = m[2] ?? '';
  const minutes = unit.startsWith('minute') ? value : unit.startsWith('hour') ? value * 60 : value * 1440;
  const { minute, hour } = accountSlot(accountId);
  if (minutes === 60) return `cron(${minute} * * * ? *)`;
  if (minutes === 1440) return `cron(${minute} ${hour} * * ? *)`;
  if (minutes % 60 === 0 && minutes < 1440 && 1440 % minutes === 0) {
    const every = minutes / 60;
    return `cron(${minute} ${hour % every}/${every} * * ? *)`;
  }
  return expression;
}
