import { z } from 'zod';
import { scheduleProblem } from './patterns.js';

/*
 * Settings of the coverage report (`falcon-org status` and the scheduled `coverage` function).
 * Kept in a file of its own; wired in as the top-level `coverage` key. Messages follow the schema's
 * "expected …" convention (the loader prefixes the path and appends what was given).
 */

/** The features a coverage report can cover (the keys of `features`). */
export const COVERAGE_FEATURES = ['ssmDistributor', 'eksProtection', 'ecrConnections'] as const;
export type CoverageFeature = (typeof COVERAGE_FEATURES)[number];

/** Default CloudWatch namespace of the coverage metrics. */
export const DEFAULT_METRIC_NAMESPACE = 'FalconOrg/Coverage';

/**
 * CloudWatch's rule for a custom namespace: 1-255 of letters, digits and `. - _ / # : space`, at
 * least one non-space, and not starting with "AWS/" (reserved for AWS services).
 */
const METRIC_NAMESPACE = /^(?!AWS\/)(?=.*[^ ])[A-Za-z0-9.\-_/#: ]{1,255}$/;

/** An IAM role ARN (the principals that may read coverage besides the scheduled function). */
const ROLE_ARN = /^arn:(aws|aws-us-gov):iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export const coverageSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(false)
    .describe('Deploy the read-only coverage role per account and the scheduled coverage function'),
  schedule: z
    .string()
    .superRefine((value, ctx) => {
      const problem = scheduleProblem(value, { minimumMinutes: 60, allowSecondsField: false });
      if (problem) ctx.addIssue({ code: 'custom', message: `expected a valid schedule: ${problem}` });
    })
    .default('rate(6 hours)')
    .describe('When the coverage function runs (EventBridge rate or cron, at least 60 minutes apart)'),
  retentionDays: z
    .number({ message: 'expected a whole number of days, e.g. 90' })
    .int({ message: 'expected a whole number of days, e.g. 90' })
    .min(1, { message: 'expected at least 1 day' })
    .max(3650, { message: 'expected at most 3650 days (10 years)' })
    .default(90)
    .describe(
      'Days the dated copies (reports/YYYY/MM/DD/…) and replaced versions of latest.* are kept in the bucket',
    ),
  concurrency: z
    .number({ message: 'expected a whole number from 1 to 64' })
    .int({ message: 'expected a whole number from 1 to 64' })
    .min(1, { message: 'expected a whole number from 1 to 64' })
    .max(64, { message: 'expected a whole number from 1 to 64; lower it if member accounts are throttled' })
    .default(16)
    .describe('Accounts read at once'),
  hostStaleAfterHours: z
    .number({ message: 'expected a whole number of hours, e.g. 24' })
    .int({ message: 'expected a whole number of hours, e.g. 24' })
    .min(1, { message: 'expected at least 1 hour' })
    .max(8760, { message: 'expected at most 8760 hours (a year); Falcon drops hosts well before that' })
    .default(24)
    .describe(
      'Hours since Falcon last saw a sensor after which its host no longer counts as protected (Falcon keeps removed or stopped sensors listed for weeks; an online sensor checks in continuously)',
    ),
  features: z
    .array(
      z.enum(COVERAGE_FEATURES, {
        message: `expected one of ${COVERAGE_FEATURES.join(', ')}`,
      }),
    )
    .min(1, { message: 'expected at least one feature; remove the setting to report every enabled feature' })
    .refine((list) => new Set(list).size === list.length, { message: 'expected each feature once' })
    .optional()
    .describe('Features to report; default: every enabled feature'),
  metricNamespace: z
    .string()
    .regex(METRIC_NAMESPACE, {
      message:
        'expected a CloudWatch namespace: 1-255 letters, digits or . - _ / # : and spaces, not starting with "AWS/", e.g. "FalconOrg/Coverage"',
    })
    .default(DEFAULT_METRIC_NAMESPACE)
    .describe('CloudWatch namespace of the coverage metrics'),
  readerRoleArns: z
    .array(
      z.string().regex(ROLE_ARN, {
        message: 'expected an IAM role ARN such as "arn:aws:iam::111122223333:role/SecurityAudit"',
      }),
    )
    .max(10, { message: 'expected at most 10 roles; use one shared role for the people who run status' })
    .refine((list) => new Set(list).size === list.length, { message: 'expected each role once' })
    .default([])
    .describe(
      'Roles (besides the coverage function) that may assume the read-only coverage role, e.g. the role people run "falcon-org status" with',
    ),
});

export type CoverageConfig = z.output<typeof coverageSchema>;
