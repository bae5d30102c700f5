import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { OwnershipRecordError } from './errors.js';
import { parseRecord, serializeRecord, type OwnershipRecord, type OwnershipStore } from './ownership.js';

/**
 * Keeps the ownership record in an SSM String parameter of the account (home region). The record holds
 * connection IDs and region names only, nothing secret. The handler owns the parameter (CloudFormation
 * does not), so writes never drift a template. Intelligent-Tiering keeps it a free standard parameter
 * unless the record ever outgrows 4 KB.
 */
export class SsmOwnershipStore implements OwnershipStore {
  constructor(
    private readonly ssm: SSMClient,
    private readonly parameterName: string,
  ) {}

  async load(): Promise<OwnershipRecord | undefined> {
    try {
      const out = await this.ssm.send(new GetParameterCommand({ Name: this.parameterName }));
      const value = out.Parameter?.Value;
      if (value === undefined) return undefined;
      return parseRecord(value, `SSM parameter ${this.parameterName}`);
    } catch (error) {
      if (error instanceof ParameterNotFound || isNamed(error, 'ParameterNotFound')) return undefined;
      if (error instanceof OwnershipRecordError) throw error;
      throw new OwnershipRecordError(
        `could not read SSM parameter ${this.parameterName}: ${message(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async save(record: OwnershipRecord): Promise<void> {
    try {
      await this.ssm.send(
        new PutParameterCommand({
          Name: this.parameterName,
          Value: serializeRecord(record),
          Type: 'String',
          Tier: 'Intelligent-Tiering',
          Overwrite: true,
          Description: 'falcon-org: Falcon registry connections created by this deployment (do not edit)',
        }),
      );
    } catch (error) {
      throw new OwnershipRecordError(
        `could not write SSM parameter ${this.parameterName}: ${message(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async remove(): Promise<void> {
    try {
      await this.ssm.send(new DeleteParameterCommand({ Name: this.parameterName }));
    } catch (error) {
      if (error instanceof ParameterNotFound || isNamed(error, 'ParameterNotFound')) return;
      throw new OwnershipRecordError(
        `could not delete SSM parameter ${this.parameterName}: ${message(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
