import type { StackInstanceSummary } from '@aws-sdk/client-cloudformation';
import type { ResolvedConfig } from '../config/load.js';
import { ecrNames, type NamedConfig } from '../config/names.js';
import type { NotPurged } from './purge-results.js';
import { leaseParameterName } from '../ecr/ssm-run-lease.js';

/**
 * What deleting the stack instances leaves in a member account by default, and `destroy --purge`
 * removes. Names as the ECR member template has them (src/infra/features/ecr-connections.ts,
 * src/config/names.ts, src/infra/features/ecr/connect-function.ts).
 */
export interface AccountLeftovers {
  readonly account: string;
  readonly region: string;
  /**
   * The ECR ownership record, kept by the handler (not CloudFormation) so connections stay owned. Absent
   * with `disconnectOnDelete: true`: the Delete removes the connections and then the record.
   */
  readonly ssmParameter?: string;
  /** The run lease next to it (`<record>-lease`), written by every ecr-connect run of the account. */
  readonly leaseParameter: string;
  /**
   * The `ecr-connect` function's log group: RemovalPolicy RETAIN, named by CloudFormation after the
   * member stack (`StackSet-<StackSet name>-<id>-<logical ID>-<suffix>`), so known by this prefix.
   */
  readonly logGroupPrefix: string;
  /**
   * With `--purge`: why this account was not purged (its purge update failed within the StackSets failure
   * tolerance, so its instance was deleted without PurgeOnDelete and what is listed here stays).
   */
  readonly notPurged?: string;
}

export interface Leftovers {
  /** True when `--purge` had the handler remove them on delete. */
  readonly purged: boolean;
  /** features.ecrConnections.disconnectOnDelete: the Delete removes the connections and the record. */
  readonly disconnectOnDelete: boolean;
  readonly accounts: readonly AccountLeftovers[];
}

/** How the retained `ecr-connect` log group's CloudFormation-made name begins (StackSet-<StackSet name>-…). */
export function ecrLogGroupPrefix(config: NamedConfig): string {
  return `StackSet-${ecrNames(config).stackSet}-`;
}

/** True when a root StackSet physical ID (`name` or `name:uuid`) is the ECR StackSet. */
export function isEcrStackSet(config: NamedConfig, physicalId: string): boolean {
  return physicalId.split(':')[0] === ecrNames(config).stackSet;
}

/** One entry per ECR stack instance (one per account, in the home region). */
export function leftoversOf(
  config: ResolvedConfig,
  instances: readonly StackInstanceSummary[],
  purged: boolean,
  notPurged: readonly NotPurged[] = [],
): Leftovers {
  const disconnectOnDelete = config.features.ecrConnections.disconnectOnDelete;
  const accounts = instances
    .map((i) => {
      const account = i.Account ?? '?';
      const region = i.Region ?? config.aws.homeRegion;
      const failed = notPurged.find((n) => n.account === account && n.region === region);
      return {
        account,
        region,
        ...(disconnectOnDelete ? {} : { ssmParameter: ecrNames(config).ownershipParameter }),
        leaseParameter: leaseParameterName(ecrNames(config).ownershipParameter),
        logGroupPrefix: ecrLogGroupPrefix(config),
        ...(purged && failed ? { notPurged: failed.reason } : {}),
      };
    })
    .sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
  return { purged, disconnectOnDelete, accounts };
}

/** Text for the destroy report (empty when nothing is left). */
export function renderLeftovers(leftovers: Leftovers): string {
  const first = leftovers.accounts[0];
  if (!first) return '';
  const count = leftovers.accounts.length;
  const where = leftovers.accounts.map((a) => `  ${a.account} ${a.region}`);
  const parameters = [first.ssmParameter, first.leaseParameter].filter((p) => p !== undefined);
  const ssm = `SSM parameter${parameters.length > 1 ? 's' : ''} ${parameters.join(' and ')}`;
  const removeByHand = `aws ssm delete-parameters --names ${parameters.join(' ')}; aws logs delete-log-group --log-group-name <name>`;
  if (leftovers.purged) {
    const done = leftovers.accounts.filter((a) => a.notPurged === undefined);
    const failed = leftovers.accounts.filter((a) => a.notPurged !== undefined);
    const lines: string[] = [];
    if (done.length > 0) {
      lines.push(
        `Removed with the stack instances (--purge) in ${done.length} account(s): ${ssm}, and the log group ${first.logGroupPrefix}* of ecr-connect`,
        ...done.map((a) => `  ${a.account} ${a.region}`),
      );
    }
    if (failed.length > 0) {
      lines.push(
        `Not purged in ${failed.length} account(s): the purge update did not succeed there (a StackSets failure tolerance lets`,
        `the update pass anyway), so ${ssm} and the log group ${first.logGroupPrefix}* may stay:`,
        ...failed.map((a) => `  ${a.account} ${a.region}: not purged: ${a.notPurged ?? ''}`),
        `Delete them in each of these accounts: ${removeByHand}`,
      );
    }
    return lines.join('\n');
  }
  return [
    `Left behind in ${count} account(s) by design (ECR connections keep them when the stack instance is deleted):`,
    ...(first.ssmParameter !== undefined
      ? [
          `  - SSM parameter ${first.ssmParameter}: the ownership record of the Falcon connections this deployment made`,
          '    (with disconnectOnDelete: false those connections stay in Falcon, and a new deploy takes them over again)',
        ]
      : []),
    `  - SSM parameter ${first.leaseParameter}: the lease that serialises the account's ecr-connect runs`,
    `  - log group ${first.logGroupPrefix}*: the ecr-connect function's logs (retained)`,
    ...where,
    ...(leftovers.disconnectOnDelete
      ? [
          'With disconnectOnDelete: true each Delete removes the Falcon connections this deployment made and then the',
          "ownership record; a connection Falcon could not be reached for stays in Falcon, named in that Delete's reason",
          '(a later deploy of this deployment replaces it). A Delete that fails keeps the record for its retry.',
        ]
      : []),
    'falcon-org destroy --purge removes them together with the stack; now that the stack is gone, delete them in',
    `each account: ${removeByHand}`,
  ].join('\n');
}
