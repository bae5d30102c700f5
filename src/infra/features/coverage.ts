import * as cdk from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { reportBucketParameterName } from '../../coverage/latest.js';
import { coverageSettings } from '../../coverage/settings.js';
import { memberParameter, OrgStackSet } from '../org-stackset.js';
import { CoverageFunction } from './coverage/coverage-function.js';
import { coverageNames, ecrNames, ROOT_STACK_OUTPUTS, type CoverageNames } from '../../config/names.js';
import { CoverageReadRole } from './coverage/read-role.js';
import { ReportBucket } from './coverage/report-bucket.js';
import { EksProtection } from './eks-protection.js';
import type { FeatureContext } from './feature.js';

/** The Lambda bundle (`dist/lambda/<name>/index.mjs`) the coverage function runs. */
export const COVERAGE_BUNDLE = 'coverage';

/** Member template parameters, filled by the StackSet from the root stack. */
export const COVERAGE_MEMBER_PARAMETERS = {
  functionRoleArn: 'CoverageFunctionRoleArn',
} as const;

const ROLE_ARN_PATTERN = '^arn:aws(-us-gov)?:iam::\\d{12}:role/[\\w+=,.@/-]+$';

/**
 * The continuous coverage report. Not one of the three features: it reports on them.
 * - per member account (StackSet, home region): the read-only coverage role, trusted only by the
 *   home coverage function's role (and the configured reader roles);
 * - in the home account: the report bucket, an SSM parameter naming it (for `status --latest`), the
 *   `coverage` function and its schedule. The management account gets the read role like every other
 *   member when this deployment reaches it (src/infra/management-account.ts).
 *
 * @example
 * if (config.coverage.enabled) new Coverage(organization, 'Coverage', organization);
 */
export class Coverage extends Construct {
  readonly names: CoverageNames;
  readonly stackSet: OrgStackSet;
  readonly reports: ReportBucket;
  readonly function: CoverageFunction;
  readonly schedule: events.Rule;
  readonly bucketParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, context: FeatureContext) {
    super(scope, id);
    const { config } = context;
    const names = coverageNames(config);
    this.names = names;
    const settings = coverageSettings(config, names);

    this.reports = new ReportBucket(this, 'Reports', { retentionDays: config.coverage.retentionDays });
    this.bucketParameter = new ssm.StringParameter(this, 'ReportBucketName', {
      parameterName: reportBucketParameterName(config.resourcePrefix),
      description: 'falcon-org: bucket holding the coverage reports (read by falcon-org status --latest)',
      stringValue: this.reports.bucket.bucketName,
    });

    const code = context.artifacts.codeFor(COVERAGE_BUNDLE);
    // EKS protection's runs table, when it is deployed (a sibling construct) and reported.
    const eks = scope.node.tryFindChild('EksProtection');
    const runsTable =
      settings.features.eksProtection && eks instanceof EksProtection ? eks.runsTable.table : undefined;
    this.function = new CoverageFunction(this, 'Function', {
      functionName: names.function,
      code: lambda.Code.fromBucket(context.artifacts.bucket, code.key),
      settings,
      falconSecret: context.credentialsFor('coverage').secret,
      bucket: this.reports.bucket,
      metricNamespace: config.coverage.metricNamespace,
      organizationId: config.organization.id,
      ...(runsTable ? { runsTable } : {}),
    });

    // The closed loop: EKS discovery rebuilds the clusters this report says do not report.
    if (runsTable && eks instanceof EksProtection) eks.useCoverageReports(this.reports.bucket);

    // The scheduled event is passed unchanged; an on-demand invocation sends any other event.
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'falcon-org: runs the coverage report',
      schedule: events.Schedule.expression(config.coverage.schedule),
    });
    this.schedule.addTarget(new targets.LambdaFunction(this.function.function));

    const functionRoleArn = this.function.role.roleArn;
    const ownershipParameterName = ecrNames(config).ownershipParameter;
    const p = COVERAGE_MEMBER_PARAMETERS;
    this.stackSet = new OrgStackSet(this, 'StackSet', {
      config,
      feature: 'coverage',
      stackSetName: names.stackSet,
      description: 'falcon-org coverage: read-only role the home coverage function assumes (per account)',
      scope: 'account',
      parameters: {
        [p.functionRoleArn]: {
          value: functionRoleArn,
          description:
            'Role of the home account coverage function (the only principal besides configured reader roles)',
          allowedPattern: ROLE_ARN_PATTERN,
        },
      },
      defineMember: (stack, params) => {
        new CoverageReadRole(stack, 'Read', {
          roleName: names.readRole,
          trustedRoleArns: [
            memberParameter(params, p.functionRoleArn).valueAsString,
            ...config.coverage.readerRoleArns,
          ],
          ownershipParameterName,
        });
      },
    });

    new cdk.CfnOutput(this, 'ReportBucketOutput', {
      key: ROOT_STACK_OUTPUTS.reportBucket,
      description: 'Bucket holding latest.json, latest.html and reports/YYYY/MM/DD/*.json',
      value: this.reports.bucket.bucketName,
    });
  }
}

export { coverageSettings } from '../../coverage/settings.js';
