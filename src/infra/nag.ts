import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** One acknowledged cdk-nag finding; the reason is required and ends up in the cloud assembly. */
export interface NagAcknowledgment {
  /** Rule ID, with the finding in brackets where the rule reports several (`AwsSolutions-IAM5[Resource::*]`). */
  readonly id: string;
  readonly reason: string;
}

/** Acknowledges cdk-nag findings on a construct and everything below it, each with its reason. */
export function acknowledge(scope: IConstruct, ...rules: readonly NagAcknowledgment[]): void {
  Validations.of(scope).acknowledge(...rules);
}

export type NagSeverity = 'error' | 'warning';

/**
 * Runs the AwsSolutions pack over a construct tree and returns one line per unacknowledged finding
 * of the given severity: `<rule>: <description> at <construct path>`.
 */
export function nagFindings(scope: IConstruct, severity: NagSeverity): string[] {
  // A fresh pack each time: a pack instance accumulates violations across calls.
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations
    .filter((v) => (v.severity ?? 'error') === severity)
    .flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName}: ${v.description} at ${r.constructPath ?? '?'}`),
    );
}

/**
 * The logical ID of a construct's CloudFormation resource, as cdk-nag names it in findings
 * (`<LogicalId.Arn>`); the construct's own ID when it has none (an imported resource).
 */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  return resource instanceof CfnElement ? Stack.of(construct).getLogicalId(resource) : construct.node.id;
}
