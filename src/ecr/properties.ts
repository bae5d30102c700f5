import { EcrSettingsError } from './errors.js';
import type { WantedRegions } from './ownership.js';

/**
 * The custom resource's properties. None of them is secret: the credentials and the external ID are read
 * from Secrets Manager by the handler.
 */
export interface EcrConnectProperties {
  /** Identifies the deployment that owns the connections it creates. */
  readonly deploymentId: string;
  /** Regions to connect; 'all' (no or empty `Regions`) = every region enabled for the account. */
  readonly regions: WantedRegions;
  readonly disconnectOnDelete: boolean;
  /** Changes whenever the configuration does, so CloudFormation sends an Update; otherwise unused. */
  readonly configHash?: string;
  /** Delete also removes the record, the run lease and the log group (`destroy --purge`). */
  readonly purgeOnDelete: boolean;
  /** The configured repair schedule; the answer's `RepairSchedule` is it, spread by account. */
  readonly schedule: string;
}

const DEPLOYMENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * Reads `DeploymentId`, `Regions`, `DisconnectOnDelete`, `PurgeOnDelete`, `RepairSchedule`, `ConfigHash`;
 * collects every problem and throws once.
 */
export function parseProperties(props: Readonly<Record<string, unknown>> | undefined): EcrConnectProperties {
  const p = props ?? {};
  const problems: string[] = [];

  const deploymentId = p.DeploymentId;
  if (typeof deploymentId !== 'string' || !DEPLOYMENT_ID.test(deploymentId)) {
    problems.push(
      'DeploymentId: expected 1-64 letters, digits, ".", "_" or "-" starting with a letter or digit',
    );
  }

  let regions: WantedRegions = 'all';
  const raw = p.Regions;
  const list =
    raw === undefined || raw === ''
      ? []
      : typeof raw === 'string'
        ? raw
            .split(',')
            .map((r) => r.trim())
            .filter((r) => r !== '')
        : Array.isArray(raw)
          ? raw
          : undefined;
  if (list === undefined || !list.every((r): r is string => typeof r === 'string' && REGION.test(r))) {
    problems.push(
      'Regions: expected a list of region names such as "us-east-1", or none for every enabled region',
    );
  } else if (list.length > 0) {
    regions = [...new Set(list)].sort();
  }

  const disconnectOnDelete = flag(p.DisconnectOnDelete, 'DisconnectOnDelete', problems);
  const purgeOnDelete = flag(p.PurgeOnDelete, 'PurgeOnDelete', problems);
  const schedule = p.RepairSchedule ?? 'rate(1 day)';
  if (typeof schedule !== 'string' || !/^(rate|cron)\(.+\)$/.test(schedule)) {
    problems.push('RepairSchedule: expected a rate(...) or cron(...) expression');
  }

  if (problems.length > 0)
    throw new EcrSettingsError(`invalid custom resource properties: ${problems.join('; ')}`);
  return {
    deploymentId: deploymentId as string,
    regions,
    disconnectOnDelete,
    purgeOnDelete,
    schedule: schedule as string,
    ...(typeof p.ConfigHash === 'string' ? { configHash: p.ConfigHash } : {}),
  };
}

/**
 * True when an Update changes `PurgeOnDelete` and nothing else: `destroy --purge` deploys that change
 * just before deleting, and it asks for no reconcile (nor for Falcon, whose client may be revoked).
 */
export function onlyPurgeOnDeleteChanged(
  oldProps: Readonly<Record<string, unknown>> | undefined,
  newProps: Readonly<Record<string, unknown>> | undefined,
): boolean {
  if (oldProps === undefined || newProps === undefined) return false;
  const keys = new Set([...Object.keys(oldProps), ...Object.keys(newProps)]);
  keys.delete('PurgeOnDelete');
  return [...keys].every((key) => JSON.stringify(oldProps[key]) === JSON.stringify(newProps[key]));
}

/** A "true"/"false" property (absent = false). */
function flag(value: unknown, name: string, problems: string[]): boolean {
  if (value === true || value === 'true') return true;
  if (value === undefined || value === false || value === 'false' || value === '') return false;
  problems.push(`${name}: expected "true" or "false"`);
  return false;
}
