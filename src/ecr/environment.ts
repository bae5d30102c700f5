import type { PartitionName } from '../config/partitions.js';
import { EcrSettingsError } from './errors.js';

/**
 * The `ecr-connect` function's environment (set by the StackSet; none of it secret):
 * - FALCON_SECRET_ARN: secret with {"ClientId","ClientSecret","Cloud","BaseUrl"?}
 * - EXTERNAL_ID_SECRET_ARN: secret holding the connection role's external ID
 * - CONNECTION_ROLE_ARN: the role Falcon assumes to read ECR (same account)
 * - OWNERSHIP_PARAMETER_NAME: SSM parameter recording the connections this deployment created
 * - ECR_CONCURRENCY (optional, 1-32, default 8): regions handled at once
 * - LOG_GROUP_NAME (optional): the function's own log group, removed by a purging Delete
 * - FOLLOW_UP_SCHEDULE_NAME and FOLLOW_UP_ROLE_ARN (optional, together): the EventBridge Scheduler
 *   one-time schedule a run that deferred regions creates, and the role Scheduler invokes the function with
 */
export interface EcrEnvironment {
  readonly falconSecretId: string;
  readonly externalIdSecretId: string;
  readonly connectionRoleArn: string;
  readonly ownershipParameterName: string;
  readonly concurrency: number;
  readonly logGroupName?: string;
  /** Where follow-up runs are scheduled; absent: deferred regions wait for the daily repair. */
  readonly followUp?: { readonly scheduleName: string; readonly roleArn: string };
}

const ROLE_ARN = /^arn:(aws|aws-us-gov):iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const PARAMETER_NAME = /^\/?[A-Za-z0-9_.\-/]{1,1011}$/;

/** Reads and checks the environment; every problem is reported at once, naming the variable. */
export function readEcrEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  accountId: string,
  partition: PartitionName,
): EcrEnvironment {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim() ?? '';
    if (value === '') problems.push(`${name} is not set`);
    return value;
  };
  const falconSecretId = required('FALCON_SECRET_ARN');
  const externalIdSecretId = required('EXTERNAL_ID_SECRET_ARN');
  const connectionRoleArn = required('CONNECTION_ROLE_ARN');
  const ownershipParameterName = required('OWNERSHIP_PARAMETER_NAME');
  if (connectionRoleArn !== '') {
    const m = ROLE_ARN.exec(connectionRoleArn);
    if (!m) problems.push('CONNECTION_ROLE_ARN is not an IAM role ARN');
    else if (m[1] !== partition || m[2] !== accountId) {
      problems.push(
        `CONNECTION_ROLE_ARN must be a role of this account (${accountId}) in partition ${partition}`,
      );
    }
  }
  if (ownershipParameterName !== '' && !PARAMETER_NAME.test(ownershipParameterName)) {
    problems.push('OWNERSHIP_PARAMETER_NAME is not a valid SSM parameter name');
  }
  let concurrency = 8;
  const rawConcurrency = env.ECR_CONCURRENCY?.trim();
  if (rawConcurrency) {
    concurrency = Number(rawConcurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
      problems.push('ECR_CONCURRENCY must be an integer from 1 to 32');
    }
  }
  const scheduleName = env.FOLLOW_UP_SCHEDULE_NAME?.trim() ?? '';
  const followUpRole = env.FOLLOW_UP_ROLE_ARN?.trim() ?? '';
  if ((scheduleName === '') !== (followUpRole === '')) {
    problems.push('FOLLOW_UP_SCHEDULE_NAME and FOLLOW_UP_ROLE_ARN must be set together');
  } else if (followUpRole !== '') {
    const m = ROLE_ARN.exec(followUpRole);
    if (!m || m[1] !== partition || m[2] !== accountId) {
      problems.push(
        `FOLLOW_UP_ROLE_ARN must be a role of this account (${accountId}) in partition ${partition}`,
      );
    }
    if (!/^[0-9a-zA-Z._-]{1,64}$/.test(scheduleName)) {
      problems.push('FOLLOW_UP_SCHEDULE_NAME is not a valid schedule name (1-64 letters, digits, . _ -)');
    }
  }
  if (problems.length > 0) throw new EcrSettingsError(`invalid function environment: ${problems.join('; ')}`);
  const logGroupName = env.LOG_GROUP_NAME?.trim();
  return {
    falconSecretId,
    externalIdSecretId,
    connectionRoleArn,
    ownershipParameterName,
    concurrency,
    ...(logGroupName ? { logGroupName } : {}),
    ...(scheduleName !== '' ? { followUp: { scheduleName, roleArn: followUpRole } } : {}),
  };
}
