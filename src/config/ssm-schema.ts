import { z } from 'zod';
import { secretInInstallerParams } from './installer-params.js';
import { DOCUMENT_VERSION, MAX_CONCURRENCY, MAX_ERRORS } from './patterns.js';
import { pattern, schedule } from './zod-rules.js';

/*
 * Settings of the SSM Distributor feature (`features.ssmDistributor`). Kept in a file of its own; the
 * names of the association parameters are CrowdStrike's (CrowdStrike/aws-ssm-distributor,
 * official-package README: parameters of CrowdStrike-FalconSensorDeploy). Messages follow the
 * schema's "expected …" convention (the loader prefixes the path and appends what was given).
 */

/**
 * Versions of CrowdStrike-FalconSensorDeploy CrowdStrike has retired: 1 and 2 run on Python 3.7,
 * which AWS decommissions for Automation scripts (official-package README: "ensure you are using
 * version 3"). `validate` warns on them.
 */
export const RETIRED_DOCUMENT_VERSIONS: ReadonlySet<string> = new Set(['1', '2']);

/** State Manager's severities for an association's compliance (CreateAssociation ComplianceSeverity). */
export const COMPLIANCE_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNSPECIFIED'] as const;

/** Longest installer-parameter string accepted (far above any real set of install flags). */
const MAX_INSTALLER_PARAMS = 1024;

/** A sensor package version as Distributor names them, e.g. "7.04.17600". */
const PACKAGE_VERSION = /^\d{1,4}(\.\d{1,6}){1,3}$/;

const ssmTargetsSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('all') }),
    z.strictObject({
      type: z.literal('tags'),
      tags: z
        .record(z.string().min(1).max(128), z.array(z.string().max(256)).min(1))
        .refine((t) => Object.keys(t).length > 0, { message: 'expected at least one tag key' }),
    }),
    z.strictObject({
      type: z.literal('resourceGroup'),
      name: z.string().regex(/^[a-zA-Z0-9_.-]{1,128}$/, { message: 'expected a resource group name' }),
    }),
  ],
  { message: 'expected targets.type to be "all", "tags" or "resourceGroup"' },
);

/**
 * Install-time flags for the sensor installer (proxy, grouping tags, …). They travel as association
 * parameters, which anyone allowed to describe the association can read and CloudTrail records, so a
 * value that carries a secret is refused; the message shows the value with the secret withheld.
 */
function installerParams(platform: 'Linux' | 'Windows') {
  const example =
    platform === 'Linux'
      ? '--tags="Production" --aph=proxy.example.com --app=8080'
      : 'GROUPING_TAGS="Production" APP_PROXYNAME=proxy.example.com APP_PROXYPORT=8080';
  return z
    .string()
    .max(MAX_INSTALLER_PARAMS, { message: `expected at most ${MAX_INSTALLER_PARAMS} characters` })
    .superRefine((value, ctx) => {
      if (/[\r\n\0]/.test(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `expected the ${platform} installer flags on one line, such as ${example}`,
        });
        return;
      }
      const found = secretInInstallerParams(value);
      if (found !== undefined) {
        ctx.addIssue({
          code: 'custom',
          // Never echo the value itself: the problem list is printed.
          input: found.redacted,
          message: `expected installer flags without secrets: ${found.what} must not be an association parameter (readable by anyone who may describe the association, and recorded by CloudTrail). ${found.fix}`,
        });
      }
    });
}

/** Everything but `regions`, which the main schema adds with its region rules. */
export const ssmSchemaWithoutRegions = z.strictObject({
  enabled: z.boolean().default(false),
  action: z
    .enum(['Install', 'Uninstall'], { message: 'expected "Install" or "Uninstall"' })
    .default('Install'),
  secretStorage: z
    .enum(['SecretsManager', 'ParameterStore'], { message: 'expected "SecretsManager" or "ParameterStore"' })
    // CloudFormation cannot create SecureString parameters, so ParameterStore is not offered yet.
    .refine((s) => s !== 'ParameterStore', {
      message:
        'expected "SecretsManager": "ParameterStore" is not supported in this version (CloudFormation cannot create SecureString parameters); remove the setting or set it to "SecretsManager"',
    })
    .default('SecretsManager'),
  schedule: schedule({ minimumMinutes: 30, allowSecondsField: true }).default('rate(1 day)'),
  applyOnlyAtCronInterval: z.boolean().default(false),
  maxErrors: pattern(MAX_ERRORS, 'a number ("10") or a percentage ("10%")').default('10%'),
  maxConcurrency: pattern(MAX_CONCURRENCY, 'a positive number ("5") or a percentage ("20%")').default('20%'),
  documentVersion: pattern(DOCUMENT_VERSION, 'a positive integer, "$DEFAULT" or "$LATEST"')
    .default('$DEFAULT')
    .describe('Version of CrowdStrike-FalconSensorDeploy; CrowdStrike recommends $DEFAULT'),
  targets: ssmTargetsSchema.default({ type: 'all' }),
  linuxInstallerParams: installerParams('Linux')
    .optional()
    .describe('LinuxInstallerParams: install-time flags on Linux (proxy, grouping tags); no secrets'),
  windowsInstallerParams: installerParams('Windows')
    .optional()
    .describe('WindowsInstallerParams: install-time flags on Windows (proxy, grouping tags); no secrets'),
  linuxPackageVersion: pattern(PACKAGE_VERSION, 'a sensor version such as "7.04.17600"')
    .optional()
    .describe("LinuxPackageVersion: pin the Linux sensor; default: the package's default (N-1)"),
  windowsPackageVersion: pattern(PACKAGE_VERSION, 'a sensor version such as "7.04.17600"')
    .optional()
    .describe("WindowsPackageVersion: pin the Windows sensor; default: the package's default (N-1)"),
  complianceSeverity: z
    .enum(COMPLIANCE_SEVERITIES, { message: `expected one of ${COMPLIANCE_SEVERITIES.join(', ')}` })
    .optional()
    .describe("The association's compliance severity; default: State Manager's (UNSPECIFIED)"),
});
