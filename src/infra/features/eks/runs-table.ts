import * as cdk from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { RUNS_TABLE } from '../../../eks/run-contract.js';

/**
 * The runs table (layout in src/eks/run-contract.ts): one item per cluster holding the run lock and
 * the last verdict and run result. On-demand, encrypted with an AWS owned key, point-in-time
 * recovery on. It goes with the stack: the next discovery rebuilds every verdict, and a lock that
 * outlived its runs would only delay the next one until it expires.
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
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
  }
}
