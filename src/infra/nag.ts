import {
  CfnElement,
  Stack,
  Validations,
  type IPolicyValidationContext,
  type PolicyValidationPluginReport,
} from 'aws-cdk-lib';
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
 * Runs `check` with CDK's deprecation notices switched off, and only `check`.
 *
 * cdk-nag's event-bus rule (AwsSolutions-EVB1) reads `CfnEventBusPolicy.principal` on every bus
 * policy to see whether it is open; that property is deprecated, and CDK prints a deprecation
 * warning for every read, also a read of a property nobody set (we build the policy with
 * `statement`). The read is cdk-nag's, not ours, so the notice is muted for the nag pass alone:
 * constructs are built before it, so a deprecated property our own code sets still warns (and
 * test/infra/deprecations.test.ts fails).
 */
function withoutDeprecationNotices<T>(check: () => T): T {
  const saved = process.env.JSII_DEPRECATED;
  process.env.JSII_DEPRECATED = 'quiet';
  try {
    return check();
  } finally {
    if (saved === undefined) delete process.env.JSII_DEPRECATED;
    else process.env.JSII_DEPRECATED = saved;
  }
}

/** The AwsSolutions pack as a synthesis-time validation plugin, its reads of deprecated properties muted. */
export class FalconOrgNagChecks extends AwsSolutionsChecks {
  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    return withoutDeprecationNotices(() => super.validate(context));
  }
}

/**
 * Runs the AwsSolutions pack over a construct tree and returns one line per unacknowledged finding
 * of the given severity: `<rule>: <description> at <construct path>`.
 */
export function nagFindings(scope: IConstruct, severity: NagSeverity): string[] {
  // A fresh pack each time: a pack instance accumulates violations across calls.
  const report = withoutDeprecationNotices(() => new AwsSolutionsChecks().validateScope(scope));
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
