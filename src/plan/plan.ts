import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EXTRA_OWNERS,
  FEATURE_NAMES,
  PLAN_NOTES_METADATA_KEY,
  ROOT_METADATA_KEY,
  STACKSET_METADATA_KEY,
  type FeatureStatus,
  type PlanNotesMetadata,
  type RootMetadata,
  type StackSetMetadata,
  type StackSetOwner,
  type StackSetScope,
} from '../infra/metadata.js';
import { afterDestroyOf, rootRetainedOf, type PlannedStackSetForDestroy } from './after-destroy.js';
import { type OperationPreferences, type PlanRollout, rolloutOf } from './rollout.js';

/*
 * The plan is read back from the synthesized templates, so it shows exactly what `synth` wrote
 * and `deploy` would create.
 */

export interface PlanResource {
  readonly logicalId: string;
  readonly type: string;
}

export interface PlanTargets {
  /** OU IDs or the root ID. */
  readonly organizationalUnitIds: readonly string[];
  readonly excludedAccounts: readonly string[];
}

export interface PlanStackSet {
  readonly name: string;
  readonly description: string;
  readonly scope: StackSetScope;
  readonly callAs: string;
  readonly targets: PlanTargets;
  readonly regions: readonly string[];
  /** Resources in one stack instance (one account, or one account × region). */
  readonly resources: readonly PlanResource[];
  /** Resources this StackSet creates in each targeted account, over all its regions. */
  readonly resourcesPerAccount: number;
}

export interface PlanFeature {
  /** A feature, or `coverage` / `catalog` (listed after the features when they deploy something). */
  readonly name: StackSetOwner;
  readonly status: FeatureStatus;
  readonly stackSets: readonly PlanStackSet[];
  readonly resourcesPerAccount: number;
  /** What the resources alone do not say (the program a project runs, a prerequisite outside the stack). */
  readonly notes: readonly string[];
}

export interface Plan {
  readonly rootStack: {
    readonly name: string;
    readonly region: string;
    readonly resources: readonly PlanResource[];
  };
  readonly features: readonly PlanFeature[];
  readonly totals: {
    readonly stackSets: number;
    readonly rootResources: number;
    /** Resources each targeted account gets, over all features and regions. */
    readonly resourcesPerAccount: number;
    /** Resources each targeted account gets in each region. */
    readonly resourcesPerAccountByRegion: Readonly<Record<string, number>>;
  };
  /** How StackSet operations roll out and what their failure tolerance means (absent without StackSets). */
  readonly rollout?: PlanRollout;
  /** What `falcon-org destroy` leaves behind by default, and what `--purge` removes. */
  readonly afterDestroy: readonly string[];
}

/** A CloudFormation template as far as the plan reads it. */
export interface TemplateJson {
  readonly Metadata?: Record<string, unknown>;
  readonly Resources?: Record<
    string,
    {
      readonly Type: string;
      readonly Properties?: Record<string, unknown>;
      readonly Metadata?: Record<string, unknown>;
      readonly DeletionPolicy?: string;
    }
  >;
}

export interface PlanInput {
  readonly rootStackName: string;
  readonly homeRegion: string;
  readonly rootTemplate: TemplateJson;
  readonly readMemberTemplate: (file: string) => TemplateJson;
}

/** Builds the plan from a root template and a way to read member templates. Pure apart from the reader. */
export function buildPlan(input: PlanInput): Plan {
  const rootResources = resourcesOf(input.rootTemplate);
  const rootMeta = input.rootTemplate.Metadata?.[ROOT_METADATA_KEY] as RootMetadata | undefined;
  const notes = input.rootTemplate.Metadata?.[PLAN_NOTES_METADATA_KEY] as PlanNotesMetadata | undefined;
  const stackSets = new Map<StackSetOwner, PlanStackSet[]>();
  const byRegion: Record<string, number> = {};
  const forDestroy: PlannedStackSetForDestroy[] = [];
  let preferences: OperationPreferences | undefined;

  for (const resource of Object.values(input.rootTemplate.Resources ?? {})) {
    const meta = resource.Metadata?.[STACKSET_METADATA_KEY] as StackSetMetadata | undefined;
    if (resource.Type !== 'AWS::CloudFormation::StackSet' || !meta) continue;
    const props = resource.Properties ?? {};
    const group = (props['StackInstancesGroup'] as StackInstancesGroup[] | undefined)?.[0];
    const targets = group?.DeploymentTargets ?? {};
    const member = input.readMemberTemplate(meta.templateFile);
    const resources = resourcesOf(member);
    preferences ??= props['OperationPreferences'] as OperationPreferences | undefined;
    const regions = group?.Regions ?? meta.regions;
    for (const region of regions) byRegion[region] = (byRegion[region] ?? 0) + resources.length;
    const planned: PlanStackSet = {
      name: text(props['StackSetName'], '?'),
      description: meta.description,
      scope: meta.scope,
      callAs: text(props['CallAs'], 'SELF'),
      targets: {
        organizationalUnitIds: targets.OrganizationalUnitIds ?? [],
        excludedAccounts: targets.AccountFilterType === 'DIFFERENCE' ? (targets.Accounts ?? []) : [],
      },
      regions,
      resources,
      resourcesPerAccount: resources.length * regions.length,
    };
    stackSets.set(meta.feature, [...(stackSets.get(meta.feature) ?? []), planned]);
    forDestroy.push({
      owner: meta.feature,
      name: planned.name,
      scope: meta.scope,
      resources: member.Resources ?? {},
    });
  }

  const features = FEATURE_NAMES.map((name): PlanFeature => {
    const sets = stackSets.get(name) ?? [];
    return {
      name,
      status: rootMeta?.features[name] ?? (sets.length > 0 ? 'deployed' : 'disabled'),
      stackSets: sets,
      resourcesPerAccount: sum(sets.map((s) => s.resourcesPerAccount)),
      notes: [...(notes?.[name] ?? [])],
    };
  });
  for (const owner of EXTRA_OWNERS) {
    const sets = stackSets.get(owner) ?? [];
    if (sets.length === 0) continue;
    features.push({
      name: owner,
      status: 'deployed',
      stackSets: sets,
      resourcesPerAccount: sum(sets.map((s) => s.resourcesPerAccount)),
      notes: [...(notes?.[owner] ?? [])],
    });
  }
  return {
    rootStack: { name: input.rootStackName, region: input.homeRegion, resources: rootResources },
    features,
    totals: {
      stackSets: sum(features.map((f) => f.stackSets.length)),
      rootResources: rootResources.length,
      resourcesPerAccount: sum(features.map((f) => f.resourcesPerAccount)),
      resourcesPerAccountByRegion: byRegion,
    },
    ...(preferences ? { rollout: rolloutOf(preferences) } : {}),
    afterDestroy: [
      ...afterDestroyOf(input.rootStackName, forDestroy),
      ...rootRetainedOf(input.rootTemplate.Resources ?? {}),
    ],
  };
}

/** Reads the plan from a cloud assembly directory written by `synthesize`. */
export function readPlan(
  assemblyDir: string,
  rootTemplateFile: string,
  root: { name: string; homeRegion: string },
): Plan {
  const read = (file: string) => JSON.parse(readFileSync(join(assemblyDir, file), 'utf8')) as TemplateJson;
  return buildPlan({
    rootStackName: root.name,
    homeRegion: root.homeRegion,
    rootTemplate: read(rootTemplateFile),
    readMemberTemplate: read,
  });
}

interface StackInstancesGroup {
  readonly Regions?: string[];
  readonly DeploymentTargets?: {
    readonly OrganizationalUnitIds?: string[];
    readonly Accounts?: string[];
    readonly AccountFilterType?: string;
  };
}

function resourcesOf(template: TemplateJson): PlanResource[] {
  return Object.entries(template.Resources ?? {}).map(([logicalId, r]) => ({ logicalId, type: r.Type }));
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
