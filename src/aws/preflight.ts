import {
  type CloudFormationClient,
  DescribeOrganizationsAccessCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import {
  DescribeOrganizationCommand,
  ListDelegatedAdministratorsCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { DescribeDocumentCommand, GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { checkOrganizationTrail, type OrganizationTrailExpectation } from './organization-trail.js';
import type { PreflightCheck, PreflightFinding } from './preflight-finding.js';

/** Service principal CloudFormation StackSets uses for delegated administration. */
export const STACKSETS_SERVICE_PRINCIPAL = 'member.org.stacksets.cloudformation.amazonaws.com';
/** Where `cdk bootstrap` (default qualifier) records the bootstrap version. */
export const BOOTSTRAP_VERSION_PARAMETER = '/cdk-bootstrap/hnb659fds/version';
export const BOOTSTRAP_STACK_NAME = 'CDKToolkit';
/** Oldest bootstrap stack version the modern synthesizer accepts. */
export const MIN_BOOTSTRAP_VERSION = 6;

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly partition: string;
}

export interface PreflightExpectations {
  readonly partition: string;
  readonly homeRegion: string;
  readonly accountType: 'management' | 'delegatedAdmin';
  readonly organizationId: string;
  /** Region the user's environment would pick (AWS_REGION / AWS_DEFAULT_REGION), if any. */
  readonly ambientRegion?: string;
  /** The SSM automation document the SSM Distributor associates, when that feature is enabled. */
  readonly distributorDocument?: DistributorDocumentExpectation;
  /** EKS Protection: an organization trail must log EKS management events (src/aws/organization-trail.ts). */
  readonly organizationTrail?: OrganizationTrailExpectation;
}

export interface DistributorDocumentExpectation {
  readonly name: string;
  /** The configured document version (`3`, `$DEFAULT`, `$LATEST`). */
  readonly version: string;
  /** Every region an association will be created in. */
  readonly regions: readonly string[];
}

export interface PreflightResult {
  /** Undefined when no identity could be established (no usable credentials). */
  readonly identity?: CallerIdentity;
  readonly bootstrapVersion?: number;
  readonly findings: readonly PreflightFinding[];
}

export interface PreflightClients {
  readonly sts: Pick<STSClient, 'send'>;
  readonly ssm: Pick<SSMClient, 'send'>;
  readonly cloudFormation: Pick<CloudFormationClient, 'send'>;
  readonly organizations: Pick<OrganizationsClient, 'send'>;
  /** SSM in another region of the caller's account; needed for the per-region document check. */
  readonly ssmFor?: (region: string) => Pick<SSMClient, 'send'>;
  /** CloudTrail in the home region; needed for the organization trail check. */
  readonly cloudTrail?: Pick<CloudTrailClient, 'send'>;
}

/** True when any finding stops the deploy. */
export function hasErrors(result: PreflightResult): boolean {
  return result.findings.some((f) => f.severity === 'error');
}

/**
 * Checks, before anything changes, that the caller can deploy this configuration from here:
 * credentials, partition and region, CDK bootstrap, organization membership, account type and
 * StackSets trusted access. Never throws for an AWS answer: each becomes a finding. What cannot be
 * checked with the caller's permissions is reported as a warning, not guessed.
 */
export async function runPreflight(
  clients: PreflightClients,
  expected: PreflightExpectations,
): Promise<PreflightResult> {
  const findings: PreflightFinding[] = [];
  const identity = await checkCredentials(clients.sts, expected, findings);
  if (!identity) return { findings };

  if (identity.partition !== expected.partition) {
    findings.push({
      check: 'partition',
      severity: 'error',
      message:
        `the credentials belong to partition "${identity.partition}" (${identity.arn}) but aws.partition is ` +
        `"${expected.partition}"; use credentials for the ${expected.partition} partition or fix the configuration`,
    });
    return { identity, findings };
  }
  if (expected.ambientRegion && expected.ambientRegion !== expected.homeRegion) {
    findings.push({
      check: 'region',
      severity: 'warning',
      message: `your environment selects region ${expected.ambientRegion}; deploying to aws.homeRegion ${expected.homeRegion} as configured`,
    });
  }

  const bootstrapVersion = await checkBootstrap(clients, identity, expected.homeRegion, findings);
  await checkOrganization(clients, identity, expected, findings);
  await checkTrustedAccess(clients.cloudFormation, expected, findings);
  if (expected.distributorDocument && clients.ssmFor) {
    findings.push(...(await checkDistributorDocument(clients.ssmFor, expected.distributorDocument)));
  }
  if (expected.organizationTrail && clients.cloudTrail) {
    findings.push(await checkOrganizationTrail(clients.cloudTrail, expected.organizationTrail));
  }
  return { identity, findings, ...(bootstrapVersion === undefined ? {} : { bootstrapVersion }) };
}

async function checkCredentials(
  sts: PreflightClients['sts'],
  expected: PreflightExpectations,
  findings: PreflightFinding[],
): Promise<CallerIdentity | undefined> {
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    const arn = out.Arn ?? '';
    const identity = { account: out.Account ?? '', arn, partition: arn.split(':')[1] ?? '' };
    findings.push({
      check: 'credentials',
      severity: 'ok',
      message: `caller ${arn} (account ${identity.account})`,
    });
    return identity;
  } catch (error) {
    findings.push({
      check: 'credentials',
      severity: 'error',
      message:
        `no usable AWS credentials for ${expected.partition} region ${expected.homeRegion} ` +
        `(STS GetCallerIdentity failed: ${errorText(error)}). Provide credentials for the management or ` +
        'delegated-admin account: set AWS_PROFILE (after "aws sso login --profile NAME" for SSO), or ' +
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials)',
    });
    return undefined;
  }
}

async function checkBootstrap(
  clients: PreflightClients,
  identity: CallerIdentity,
  region: string,
  findings: PreflightFinding[],
): Promise<number | undefined> {
  const command = `npx cdk bootstrap aws://${identity.account}/${region}`;
  try {
    const out = await clients.ssm.send(new GetParameterCommand({ Name: BOOTSTRAP_VERSION_PARAMETER }));
    const version = Number(out.Parameter?.Value);
    if (!Number.isFinite(version) || version < MIN_BOOTSTRAP_VERSION) {
      findings.push({
        check: 'bootstrap',
        severity: 'error',
        message: `the CDK bootstrap in aws://${identity.account}/${region} is version ${out.Parameter?.Value ?? '?'}, at least ${MIN_BOOTSTRAP_VERSION} is needed; run: ${command}`,
      });
    } else {
      findings.push({ check: 'bootstrap', severity: 'ok', message: `CDK bootstrap version ${version}` });
    }
    return Number.isFinite(version) ? version : undefined;
  } catch (error) {
    if (errorName(error) !== 'ParameterNotFound' && !isAccessDenied(error)) {
      findings.push(cannotCheck('bootstrap', `read ${BOOTSTRAP_VERSION_PARAMETER}`, error));
      return undefined;
    }
  }
  // No readable version parameter: fall back to the bootstrap stack itself.
  try {
    const out = await clients.cloudFormation.send(
      new DescribeStacksCommand({ StackName: BOOTSTRAP_STACK_NAME }),
    );
    const status = out.Stacks?.[0]?.StackStatus ?? 'UNKNOWN';
    const healthy = /_COMPLETE$/.test(status) && !/^(ROLLBACK|DELETE)_/.test(status);
    findings.push({
      check: 'bootstrap',
      severity: healthy ? 'warning' : 'error',
      message: healthy
        ? `stack ${BOOTSTRAP_STACK_NAME} exists but ${BOOTSTRAP_VERSION_PARAMETER} could not be read; if the deploy fails on the bootstrap version, run: ${command}`
        : `stack ${BOOTSTRAP_STACK_NAME} is ${status}; repair the CDK bootstrap by running: ${command}`,
    });
  } catch (error) {
    if (errorName(error) === 'ValidationError' && /does not exist/i.test(errorText(error))) {
      findings.push({
        check: 'bootstrap',
        severity: 'error',
        message: `the CDK is not bootstrapped in aws://${identity.account}/${region} (no ${BOOTSTRAP_VERSION_PARAMETER} parameter, no ${BOOTSTRAP_STACK_NAME} stack); run: ${command}`,
      });
    } else {
      findings.push(cannotCheck('bootstrap', `describe stack ${BOOTSTRAP_STACK_NAME}`, error));
    }
  }
  return undefined;
}

async function checkOrganization(
  clients: PreflightClients,
  identity: CallerIdentity,
  expected: PreflightExpectations,
  findings: PreflightFinding[],
): Promise<void> {
  let managementAccount: string;
  try {
    const out = await clients.organizations.send(new DescribeOrganizationCommand({}));
    const orgId = out.Organization?.Id ?? '';
    managementAccount = out.Organization?.MasterAccountId ?? '';
    if (orgId !== expected.organizationId) {
      findings.push({
        check: 'organization',
        severity: 'error',
        message: `account ${identity.account} belongs to organization ${orgId}, but organization.id is ${expected.organizationId}`,
      });
      return;
    }
    findings.push({ check: 'organization', severity: 'ok', message: `organization ${orgId}` });
  } catch (error) {
    if (errorName(error) === 'AWSOrganizationsNotInUseException') {
      findings.push({
        check: 'organization',
        severity: 'error',
        message: `account ${identity.account} is not a member of an AWS Organization`,
      });
    } else {
      findings.push(cannotCheck('organization', 'describe the organization', error));
    }
    return;
  }

  const isManagement = identity.account === managementAccount;
  if (expected.accountType === 'management') {
    findings.push(
      isManagement
        ? { check: 'accountType', severity: 'ok', message: 'caller is the management account' }
        : {
            check: 'accountType',
            severity: 'error',
            message:
              `aws.accountType is "management" but account ${identity.account} is not the management account ` +
              `(${managementAccount}); run from ${managementAccount}, or register ${identity.account} as a ` +
              'StackSets delegated administrator and set aws.accountType: delegatedAdmin',
          },
    );
    return;
  }
  if (isManagement) {
    findings.push({
      check: 'accountType',
      severity: 'error',
      message:
        `aws.accountType is "delegatedAdmin" but account ${identity.account} is the management account; ` +
        'set aws.accountType: management, or run from the delegated administrator account',
    });
    return;
  }
  await checkDelegatedAdmin(clients.organizations, identity, managementAccount, findings);
}

async function checkDelegatedAdmin(
  organizations: PreflightClients['organizations'],
  identity: CallerIdentity,
  managementAccount: string,
  findings: PreflightFinding[],
): Promise<void> {
  const admins: string[] = [];
  try {
    let token: string | undefined;
    do {
      const out = await organizations.send(
        new ListDelegatedAdministratorsCommand({
          ServicePrincipal: STACKSETS_SERVICE_PRINCIPAL,
          NextToken: token,
        }),
      );
      admins.push(...(out.DelegatedAdministrators ?? []).map((a) => a.Id ?? ''));
      token = out.NextToken;
    } while (token);
  } catch (error) {
    findings.push({
      check: 'accountType',
      severity: 'warning',
      message:
        `could not confirm that ${identity.account} is a StackSets delegated administrator ` +
        `(${errorText(error)}); CloudFormation will refuse CallAs DELEGATED_ADMIN if it is not`,
    });
    return;
  }
  findings.push(
    admins.includes(identity.account)
      ? { check: 'accountType', severity: 'ok', message: 'caller is a StackSets delegated administrator' }
      : {
          check: 'accountType',
          severity: 'error',
          message:
            `account ${identity.account} is not a StackSets delegated administrator; from the management account ` +
            `${managementAccount} run: aws organizations register-delegated-administrator --service-principal ` +
            `${STACKSETS_SERVICE_PRINCIPAL} --account-id ${identity.account}`,
        },
  );
}

async function checkTrustedAccess(
  cloudFormation: PreflightClients['cloudFormation'],
  expected: PreflightExpectations,
  findings: PreflightFinding[],
): Promise<void> {
  const callAs = expected.accountType === 'delegatedAdmin' ? 'DELEGATED_ADMIN' : 'SELF';
  try {
    const out = await cloudFormation.send(new DescribeOrganizationsAccessCommand({ CallAs: callAs }));
    findings.push(
      out.Status === 'ENABLED'
        ? { check: 'trustedAccess', severity: 'ok', message: 'StackSets trusted access is enabled' }
        : {
            check: 'trustedAccess',
            severity: 'error',
            message:
              `StackSets trusted access with AWS Organizations is ${out.Status ?? 'unknown'}; SERVICE_MANAGED ` +
              'StackSets need it: from the management account run: aws cloudformation activate-organizations-access',
          },
    );
  } catch (error) {
    findings.push(cannotCheck('trustedAccess', 'read StackSets trusted access', error));
  }
}

/**
 * The Distributor document must be readable (`ssm:DescribeDocument`) in every region an association
 * will be created in: CrowdStrike does not publish it in every region or partition, and an
 * association of a missing document fails its stack instance in every account of that region.
 * One error names all the regions where it is missing; regions that could not be asked are warnings.
 */
export async function checkDistributorDocument(
  ssmFor: (region: string) => Pick<SSMClient, 'send'>,
  document: DistributorDocumentExpectation,
): Promise<PreflightFinding[]> {
  const outcomes = await Promise.all(
    document.regions.map(async (region) => {
      try {
        const out = await ssmFor(region).send(
          new DescribeDocumentCommand({ Name: document.name, DocumentVersion: document.version }),
        );
        const status = out.Document?.Status;
        return status === undefined || status === 'Active'
          ? { region, state: 'available' as const }
          : { region, state: 'missing' as const, detail: `status ${status}` };
      } catch (error) {
        const name = errorName(error);
        if (name === 'InvalidDocument' || name === 'InvalidDocumentVersion') {
          return {
            region,
            state: 'missing' as const,
            detail: name === 'InvalidDocumentVersion' ? `no version ${document.version}` : 'not published',
          };
        }
        return { region, state: 'unknown' as const, detail: errorText(error) };
      }
    }),
  );
  const missing = outcomes.filter((o) => o.state === 'missing');
  const unknown = outcomes.filter((o) => o.state === 'unknown');
  const findings: PreflightFinding[] = [];
  if (missing.length > 0) {
    findings.push({
      check: 'distributorDocument',
      severity: 'error',
      message:
        `${document.name} (version ${document.version}) is not available in ` +
        `${missing.map((m) => `${m.region} (${m.detail})`).join(', ')}; an association there fails in every ` +
        `account: remove ${missing.length === 1 ? 'this region' : 'these regions'} from features.ssmDistributor.regions` +
        `${missing.some((m) => m.detail.startsWith('no version')) ? ', or set features.ssmDistributor.documentVersion to a version published there' : ''}`,
    });
  }
  for (const u of unknown) {
    findings.push(cannotCheck('distributorDocument', `describe ${document.name} in ${u.region}`, u.detail));
  }
  if (missing.length === 0 && unknown.length === 0) {
    findings.push({
      check: 'distributorDocument',
      severity: 'ok',
      message: `${document.name} is available in ${document.regions.join(', ')}`,
    });
  }
  return findings;
}

function cannotCheck(check: PreflightCheck, what: string, error: unknown): PreflightFinding {
  return { check, severity: 'warning', message: `could not ${what}: ${errorText(error)} (not verified)` };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function errorText(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

function isAccessDenied(error: unknown): boolean {
  return /AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(errorName(error));
}
