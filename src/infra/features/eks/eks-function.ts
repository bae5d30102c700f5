import type * as cdk from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { buildFunction } from '../../function-builder.js';

export interface EksFunctionProps {
  readonly functionName: string;
  /** Fixed role name: the member execution role trusts this role by its exact ARN. */
  readonly roleName: string;
  readonly description: string;
  readonly codeBucket: s3.IBucket;
  readonly codeKey: string;
  readonly timeout: cdk.Duration;
  readonly memorySize: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Where Lambda puts asynchronous events that failed every retry (the role gets sqs:SendMessage on it). */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Keep the log group when the stack is deleted (default) or remove it (`destroy --purge`). */
  readonly logRemovalPolicy: cdk.RemovalPolicy;
  /** What the function does besides writing its logs, each action on its resources. */
  readonly statements: readonly iam.PolicyStatement[];
}

/**
 * A home-account EKS function (`eks-discover`, `eks-event`): its code from the artifact bucket, built
 * by the one function builder (src/infra/function-builder.ts) with exactly the given statements.
 */
export class EksFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EksFunctionProps) {
    super(scope, id);
    const built = buildFunction(this, {
      functionName: props.functionName,
      roleName: props.roleName,
      description: props.description,
      bundle: props.functionName,
      code: lambda.Code.fromBucket(props.codeBucket, props.codeKey),
      timeout: props.timeout,
      memorySize: props.memorySize,
      environment: props.environment,
      statements: props.statements,
      logRemovalPolicy: props.logRemovalPolicy,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
    });
    this.function = built.function;
    this.role = built.role;
    this.logGroup = built.logGroup;
  }
}
