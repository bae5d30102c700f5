import { DeleteLogGroupCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { OwnershipRecordError } from './errors.js';

/**
 * What the handler itself keeps in the account besides the ownership record, and which CloudFormation
 * does not delete: the run lease parameter and the function's retained log group. `destroy --purge`
 * asks the custom resource's Delete to remove them.
 */
export interface AccountLeftovers {
  /** Removes them (what is already gone is not an error); returns a description of what was removed. */
  purge(): Promise<string[]>;
}

export class AwsAccountLeftovers implements AccountLeftovers {
  constructor(
    private readonly ssm: SSMClient,
    private readonly logs: () => CloudWatchLogsClient,
    private readonly leaseParameterName: string,
    /** The function's own log group; undefined when the environment does not name it. */
    private readonly logGroupName: string | undefined,
  ) {}

  async purge(): Promise<string[]> {
    const removed: string[] = [];
    if (
      await this.ignoreMissing(() =>
        this.ssm.send(new DeleteParameterCommand({ Name: this.leaseParameterName })),
      )
    ) {
      removed.push(`SSM parameter ${this.leaseParameterName}`);
    }
    if (this.logGroupName !== undefined) {
      const name = this.logGroupName;
      if (
        await this.ignoreMissing(() => this.logs().send(new DeleteLogGroupCommand({ logGroupName: name })))
      ) {
        removed.push(`log group ${name}`);
      }
    }
    return removed;
  }

  /** True when deleted, false when it did not exist. */
  private async ignoreMissing(remove: () => Promise<unknown>): Promise<boolean> {
    try {
      await remove();
      return true;
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'ParameterNotFound' || name === 'ResourceNotFoundException') return false;
      throw new OwnershipRecordError(
        `could not remove what the handler keeps in the account: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}
