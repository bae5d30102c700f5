import * as cdk from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { RUNS_TABLE } from '../../../eks/run-contract.js';

/**
 * The runs table (layout in src/eks/run-contract.ts): one item per cluster holding the run lock,
 * the last verdict and run result, and whether Falcon was ever installed there. On-demand,
 * encrypted with an AWS managed key, point-in-time recovery on. It is kept when the stack is
 * deleted (RETAIN): after `destroy` it is the record of which clusters Falcon was installed on and
 * which keep it (skipped, unreachable) — `destroy` names it; delete it by hand when done. A later
 * deploy creates a new table (the name is CloudFormation's), so nothing stale is read.
 */
export class RunsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: RUNS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
  }
}
