import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import type { ResolvedConfig } from '../config/load.js';
import { InfraError } from './errors.js';
import { nagFindings } from './nag.js';
import { applyPermissionsBoundary } from './permissions-boundary.js';
import {
  STACKSET_METADATA_KEY,
  type StackSetMetadata,
  type StackSetOwner,
  type StackSetScope,
} from './metadata.js';

/**
 * CloudFormation's limit for an inline `TemplateBody`; larger templates go through S3. So do
 * templates containing `{{`: inline, CloudFormation would read a member's dynamic reference
 * (`{{resolve:...}}`) as one of the root stack's own.
 */
export const TEMPLATE_BODY_LIMIT_BYTES = 51_200;

/** A parameter of the member template and the root-side value the StackSet passes to it. */
export interface OrgStackSetParameter {
  /** Value in the root stack: a literal, a token, a `Ref` to a NoEcho parameter or a dynamic reference. */
  readonly value: string;
  /** Mark secrets: the member parameter is NoEcho and CloudFormation masks it everywhere. @default false */
  readonly noEcho?: boolean;
  readonly description?: string;
  /** @default - any value */
  readonly allowedPattern?: string;
}

export interface OrgStackSetProps {
  readonly config: ResolvedConfig;
  /** The StackSet's name; also names the member template file in the cloud assembly. */
  readonly stackSetName: string;
  readonly feature: StackSetOwner;
  readonly description: string;
  /**
   * 'account': one instance per account in the home region (IAM roles and other global resources).
   * 'account-region': one instance per account in each of `regions`.
   */
  readonly scope: StackSetScope;
  /** Regions for 'account-region'; ignored for 'account' (always the home region). */
  readonly regions?: readonly string[];
  /** Member template parameters, keyed by parameter name. */
  readonly parameters?: Readonly<Record<string, OrgStackSetParameter>>;
  /**
   * Builds the member stack's resources. The stack is environment-agnostic (use `Aws.ACCOUNT_ID`,
   * `Aws.REGION`, `Aws.PARTITION`), has no CDK assets (Lambda code comes from the artifact bucket)
   * and receives the declared parameters. Every IAM role in it gets the configured permissions
   * boundary and every resource the configured tags, without the feature doing anything.
   */
  readonly defineMember: (stack: cdk.Stack, parameters: Readonly<Record<string, cdk.CfnParameter>>) => void;
}

/**
 * Turns a construct tree into a SERVICE_MANAGED `AWS::CloudFormation::StackSet` targeting the
 * organization from the configuration. The member stack is built in its own App, checked with
 * cdk-nag (errors surface on this construct), synthesized, and embedded inline or, above
 * {@link TEMPLATE_BODY_LIMIT_BYTES}, uploaded as a file asset. The member template is also written
 * next to the root template as `<stackSetName>.stackset.template.json`.
 *
 * @example
 * new OrgStackSet(this, 'Roles', {
 *   config, stackSetName: 'falcon-org-roles', feature: 'ssmDistributor', scope: 'account',
 *   description: 'Falcon roles', defineMember: (stack) => new iam.Role(stack, 'Role', { ... }),
 * });
 */
export class OrgStackSet extends Construct {
  readonly stackSet: CfnStackSet;
  /** The member stack, for tests and assertions; it belongs to its own App. */
  readonly memberStack: cdk.Stack;
  readonly memberTemplate: Readonly<Record<string, unknown>>;
  /** File name of the member template inside the root cloud assembly directory. */
  readonly templateFile: string;
  readonly regions: readonly string[];

  constructor(scope: Construct, id: string, props: OrgStackSetProps) {
    super(scope, id);
    const { config } = props;
    this.regions = props.scope === 'account' ? [config.aws.homeRegion] : [...(props.regions ?? [])];
    if (this.regions.length === 0) {
      throw new InfraError(
        `StackSet ${props.stackSetName}: an account-region StackSet needs at least one region`,
      );
    }

    const member = synthesizeMember(props);
    this.memberStack = member.stack;
    this.memberTemplate = member.template;
    for (const finding of member.errors) cdk.Annotations.of(this).addError(finding);

    this.templateFile = `${props.stackSetName}.stackset.template.json`;
    const body = JSON.stringify(member.template);
    const outdir = cdk.Stage.of(this)?.outdir ?? '.';
    mkdirSync(outdir, { recursive: true });
    const templatePath = join(outdir, this.templateFile);
    writeFileSync(templatePath, `${JSON.stringify(member.template, null, 1)}\n`);
    const template =
      Buffer.byteLength(body) < TEMPLATE_BODY_LIMIT_BYTES && !body.includes('{{')
        ? { templateBody: body }
        : { templateUrl: new Asset(this, 'Template', { path: templatePath }).httpUrl };

    const excluded = config.organization.excludeAccounts;
    const parameters = Object.entries(props.parameters ?? {}).map(([key, p]) => ({
      parameterKey: key,
      parameterValue: p.value,
    }));
    this.stackSet = new CfnStackSet(this, 'Resource', {
      stackSetName: props.stackSetName,
      description: props.description,
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: config.aws.accountType === 'delegatedAdmin' ? 'DELEGATED_ADMIN' : 'SELF',
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        maxConcurrentPercentage: config.stackSets.maxConcurrentPercentage,
        failureTolerancePercentage: config.stackSets.failureTolerancePercentage,
        regionConcurrencyType: config.stackSets.regionConcurrency,
        concurrencyMode: config.stackSets.concurrencyMode,
      },
      stackInstancesGroup: [
        {
          deploymentTargets: {
            organizationalUnitIds: [...config.organization.targets],
            ...(excluded.length > 0 ? { accountFilterType: 'DIFFERENCE', accounts: [...excluded] } : {}),
          },
          regions: [...this.regions],
        },
      ],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...template,
    });
    const metadata: StackSetMetadata = {
      feature: props.feature,
      scope: props.scope,
      regions: this.regions,
      templateFile: this.templateFile,
      description: props.description,
    };
    this.stackSet.addMetadata(STACKSET_METADATA_KEY, metadata);
  }
}

interface SynthesizedMember {
  readonly stack: cdk.Stack;
  readonly template: Record<string, unknown>;
  readonly errors: readonly string[];
}

function synthesizeMember(props: OrgStackSetProps): SynthesizedMember {
  const outdir = mkdtempSync(join(tmpdir(), 'falcon-org-member-'));
  try {
    // The root app runs CDK's built-in template validation; repeating it per member app costs seconds.
    const app = new cdk.App({
      outdir,
      autoSynth: false,
      analyticsReporting: false,
      treeMetadata: false,
      builtinCloudFormationValidation: false,
    });
    const stack = new cdk.Stack(app, props.stackSetName, {
      description: props.description,
      synthesizer: new cdk.BootstraplessSynthesizer(),
      analyticsReporting: false,
    });
    for (const [key, value] of Object.entries(props.config.tags)) cdk.Tags.of(app).add(key, value);
    const parameters: Record<string, cdk.CfnParameter> = {};
    for (const [name, p] of Object.entries(props.parameters ?? {})) {
      parameters[name] = new cdk.CfnParameter(stack, name, {
        type: 'String',
        ...(p.noEcho ? { noEcho: true } : {}),
        ...(p.description ? { description: p.description } : {}),
        ...(p.allowedPattern ? { allowedPattern: p.allowedPattern } : {}),
      });
    }
    props.defineMember(stack, parameters);
    applyPermissionsBoundary(stack, props.config.permissionsBoundary);
    const errors = nagFindings(stack, 'error').map((f) => `${props.stackSetName} member stack: ${f}`);
    const assembly = app.synth();
    const template = assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>;
    return { stack, template, errors };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A declared member parameter by name; a missing one is a defect in the feature, not user input. */
export function memberParameter(
  params: Readonly<Record<string, cdk.CfnParameter>>,
  name: string,
): cdk.CfnParameter {
  const param = params[name];
  if (!param) throw new InfraError(`member parameter ${name} was not declared`);
  return param;
}
