import {
  type AdvancedEventSelector,
  type CloudTrailClient,
  DescribeTrailsCommand,
  type EventSelector,
  GetEventSelectorsCommand,
  type Trail,
} from '@aws-sdk/client-cloudtrail';
import type { PreflightFinding } from './preflight-finding.js';

/*
 * EKS Protection learns of new clusters from CloudTrail management events delivered to EventBridge:
 * only where a trail logs them. This pre-flight check looks for an organization trail that logs
 * write management events of EKS in every configured EKS region, and says what to do when there is
 * none. It warns instead of stopping the deploy: the scheduled discovery still finds every cluster.
 */

export interface OrganizationTrailExpectation {
  /** Regions whose CreateCluster events must reach EventBridge. */
  readonly regions: readonly string[];
  /** `features.eksProtection.createOrganizationTrail`: the deployment creates one itself. */
  readonly createdByDeployment: boolean;
  /** The discovery schedule, named in the warning (new clusters then wait for it). */
  readonly schedule: string;
}

const EKS_EVENT_SOURCE = 'eks.amazonaws.com';

/** One finding (check `organizationTrail`): ok, or a warning that names the fix. Never throws for an AWS answer. */
export async function checkOrganizationTrail(
  cloudTrail: Pick<CloudTrailClient, 'send'>,
  expected: OrganizationTrailExpectation,
): Promise<PreflightFinding> {
  if (expected.createdByDeployment) {
    return {
      check: 'organizationTrail',
      severity: 'ok',
      message: 'this deployment creates an organization trail logging write management events',
    };
  }
  let trails: Trail[];
  try {
    // Shadow trails: an organization trail of the management account appears in member accounts too.
    const out = await cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }));
    trails = (out.trailList ?? []).filter((t) => t.IsOrganizationTrail === true);
  } catch (error) {
    return warning(`could not list trails (cloudtrail:DescribeTrails: ${errorText(error)}); not verified`);
  }
  const unreadable: string[] = [];
  for (const trail of trails) {
    if (!coversRegions(trail, expected.regions)) continue;
    try {
      const out = await cloudTrail.send(
        new GetEventSelectorsCommand({ TrailName: trail.TrailARN ?? trail.Name }),
      );
      if (logsEksWrites(out.EventSelectors, out.AdvancedEventSelectors)) {
        return {
          check: 'organizationTrail',
          severity: 'ok',
          message: `organization trail ${trail.Name ?? trail.TrailARN ?? '?'} logs EKS management events in ${expected.regions.join(', ')}`,
        };
      }
    } catch (error) {
      unreadable.push(`${trail.Name ?? trail.TrailARN ?? '?'} (${errorText(error)})`);
    }
  }
  if (unreadable.length > 0) {
    return warning(
      `could not read the event selectors of organization trail(s) ${unreadable.join(', ')} (cloudtrail:GetEventSelectors); not verified`,
    );
  }
  return warning(
    `no organization trail logs write management events of EKS in ${expected.regions.join(', ')}: ` +
      `EventBridge will not see CreateCluster there, so new clusters wait for the scheduled discovery (${expected.schedule}). ` +
      'Set features.eksProtection.createOrganizationTrail: true (management account), or create an organization trail ' +
      'with management events (All or WriteOnly) in every region',
  );
}

function coversRegions(trail: Trail, regions: readonly string[]): boolean {
  if (trail.IsMultiRegionTrail === true) return true;
  return regions.every((r) => r === trail.HomeRegion);
}

/** True when the selectors log write management events from EKS (basic or advanced selectors). */
export function logsEksWrites(
  basic: readonly EventSelector[] | undefined,
  advanced: readonly AdvancedEventSelector[] | undefined,
): boolean {
  if (advanced && advanced.length > 0) return advanced.some(advancedLogsEksWrites);
  // A trail without selectors logs all management events (CloudTrail's default).
  if (!basic || basic.length === 0) return true;
  return basic.some(
    (s) =>
      s.IncludeManagementEvents !== false &&
      (s.ReadWriteType ?? 'All') !== 'ReadOnly' &&
      !(s.ExcludeManagementEventSources ?? []).includes(EKS_EVENT_SOURCE),
  );
}

function advancedLogsEksWrites(selector: AdvancedEventSelector): boolean {
  const fields = selector.FieldSelectors ?? [];
  const field = (name: string) => fields.find((f) => f.Field === name);
  if (!field('eventCategory')?.Equals?.includes('Management')) return false;
  const readOnly = field('readOnly');
  if (readOnly?.Equals?.includes('true')) return false;
  const source = field('eventSource');
  if (source?.Equals && !source.Equals.includes(EKS_EVENT_SOURCE)) return false;
  if (source?.NotEquals?.includes(EKS_EVENT_SOURCE)) return false;
  return true;
}

function warning(message: string): PreflightFinding {
  return { check: 'organizationTrail', severity: 'warning', message };
}

function errorText(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
