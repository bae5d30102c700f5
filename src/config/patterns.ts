/**
 * Patterns for the identifiers and expressions the configuration accepts. Each pattern comes with
 * the sentence used in an error message when a value does not match it.
 */
export const ORG_ID = /^o-[a-z0-9]{10,32}$/;
export const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
export const ACCOUNT_ID = /^\d{12}$/;
/** Customer ID with checksum (CCID): 32 hex digits, a dash, 2 hex digits. */
export const CID_WITH_CHECKSUM = /^[0-9A-Fa-f]{32}-[0-9A-Fa-f]{2}$/;
/** SSM's own patterns for association MaxErrors and MaxConcurrency. */
export const MAX_ERRORS = /^([1-9][0-9]*|0|[1-9][0-9]%|[0-9]%|100%)$/;
export const MAX_CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
export const DOCUMENT_VERSION = /^(\$DEFAULT|\$LATEST|[1-9][0-9]*)$/;
export const RESOURCE_PREFIX = /^[a-zA-Z][a-zA-Z0-9-]{0,23}$/;
export const IAM_POLICY_ARN = /^arn:(aws|aws-us-gov):iam::(\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/;
export const IAM_POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
export const SECRET_ARN = /^arn:(aws|aws-us-gov):secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON_FIELD = /^[0-9A-Za-z*?/,#LW-]+$/;

export interface ScheduleRules {
  /** Shortest interval a rate expression may have. */
  readonly minimumMinutes: number;
  /** State Manager also accepts a seven-field cron with a leading seconds field. */
  readonly allowSecondsField: boolean;
}

/**
 * Checks a schedule expression in the syntax State Manager and EventBridge accept: `rate(N unit)`
 * (singular unit for 1, plural otherwise) or `cron(...)` with six fields (seven with leading seconds
 * where allowed). Returns a problem description, or undefined when the expression is well formed.
 */
export function scheduleProblem(expression: string, rules: ScheduleRules): string | undefined {
  const { minimumMinutes, allowSecondsField } = rules;
  const rate = RATE.exec(expression);
  if (rate) {
    const amount = Number(rate[1]);
    const unit = rate[2] ?? '';
    if (amount < 1) return 'the rate must be at least 1';
    const plural = unit.endsWith('s');
    if (amount === 1 && plural) return `use the singular unit for 1, e.g. "rate(1 ${unit.slice(0, -1)})"`;
    if (amount > 1 && !plural) return `use the plural unit for ${amount}, e.g. "rate(${amount} ${unit}s)"`;
    const minutes = amount * (unit.startsWith('day') ? 1440 : unit.startsWith('hour') ? 60 : 1);
    if (minutes < minimumMinutes) return `the interval must be at least ${minimumMinutes} minutes`;
    return undefined;
  }
  if (expression.startsWith('cron(') && expression.endsWith(')')) {
    const fields = expression.slice(5, -1).trim().split(/\s+/);
    const allowed = allowSecondsField ? [6, 7] : [6];
    if (!allowed.includes(fields.length)) {
      const shape = allowSecondsField ? '6 or 7 fields ([seconds] ' : '6 fields (';
      return `a cron expression has ${shape}minutes hours day-of-month month day-of-week year), got ${fields.length}`;
    }
    const bad = fields.find((f) => !CRON_FIELD.test(f));
    if (bad !== undefined) return `cron field "${bad}" has characters outside 0-9 A-Z * ? / , - # L W`;
    const offset = fields.length - 6;
    const dayOfMonth = fields[offset + 2];
    const dayOfWeek = fields[offset + 4];
    if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
      return 'exactly one of day-of-month and day-of-week must be "?"';
    }
    return undefined;
  }
  return 'expected "rate(<number> <minute|minutes|hour|hours|day|days>)" or "cron(<6 fields>)"';
}
