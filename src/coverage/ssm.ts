import { cellOf } from './cells.js';
import { fresher, isStale, notSeenFor } from './host-freshness.js';
import type {
  AssociationCompliance,
  AssociationInfo,
  CoverageCell,
  CoverageItem,
  CoverageReason,
  Ec2Instance,
  FalconHost,
  ManagedInstance,
} from './model.js';

/** What was read for one account × region of SSM Distributor. */
export interface SsmRegionFacts {
  readonly accountId: string;
  readonly region: string;
  readonly associationName: string;
  readonly association: AssociationInfo | undefined;
  readonly instances: readonly Ec2Instance[];
  readonly managed: readonly ManagedInstance[];
  readonly compliance: readonly AssociationCompliance[];
  /** Hosts Falcon sees in the account, or why they could not be read. */
  readonly hosts: readonly FalconHost[] | { readonly unreadable: string };
  /** Epoch seconds of the report, to tell how long ago a host was last seen. */
  readonly nowSeconds: number;
  /** A host last seen longer ago than this does not protect its instance. */
  readonly hostStaleAfterHours: number;
}

const FAILED_EXECUTION = new Set(['Failed', 'TimedOut', 'Cancelled']);

/**
 * Judges every running instance of the region. Falcon is the truth: an instance is protected only when
 * Falcon sees a sensor with its instance ID in this account, however the sensor got there, and saw it
 * within `hostStaleAfterHours` (an older host is a removed or stopped sensor: `sensor-stale`). For the
 * others, the first reason says why, from the SSM side: not managed, offline, no association, failed,
 * pending, or "installed, not reporting" (the association is COMPLIANT but Falcon does not see it).
 */
export function judgeSsmRegion(facts: SsmRegionFacts): CoverageCell {
  const where = { accountId: facts.accountId, region: facts.region, feature: 'ssmDistributor' as const };
  const cellReasons: CoverageReason[] = [];
  const association = facts.association;
  if (association === undefined) {
    cellReasons.push({
      code: 'no-association',
      text: `No State Manager association "${facts.associationName}" in this region. Enable SSM Distributor for the region (features.ssmDistributor.regions) and deploy.`,
    });
  } else if (
    association.lastExecutionStatus !== undefined &&
    FAILED_EXECUTION.has(association.lastExecutionStatus)
  ) {
    cellReasons.push(failedAssociation(association, at(association.lastExecutionDate)));
  }
  if (facts.instances.length === 0) {
    return {
      ...cellOf(where, [], cellReasons),
      reasons: [{ code: 'no-instances', text: 'No running EC2 instances.' }, ...cellReasons],
    };
  }
  const managed = new Map(facts.managed.map((m) => [m.instanceId, m]));
  const compliance = new Map(facts.compliance.map((c) => [c.instanceId, c.status]));
  const hosts = 'unreadable' in facts.hosts ? undefined : facts.hosts;
  const seen = new Map<string, FalconHost>();
  // A reinstalled sensor leaves its old host behind: the most recently seen one speaks for the instance.
  for (const host of hosts ?? []) {
    if (host.instanceId !== undefined) seen.set(host.instanceId, fresher(seen.get(host.instanceId), host));
  }

  const items = facts.instances.map((instance): CoverageItem => {
    const m = managed.get(instance.instanceId);
    const status = compliance.get(instance.instanceId);
    const facts_: Record<string, string | number | boolean> = {
      ssmManaged: m !== undefined,
      ...(m !== undefined ? { ssmPing: m.pingStatus } : {}),
      ...(status !== undefined ? { associationCompliance: status } : {}),
      ...(instance.platform !== undefined ? { platform: instance.platform } : {}),
    };
    const base = {
      kind: 'instance' as const,
      id: instance.instanceId,
      ...(instance.name !== undefined ? { name: instance.name } : {}),
    };
    const host = seen.get(instance.instanceId);
    if (host !== undefined && isStale(host, facts.nowSeconds, facts.hostStaleAfterHours)) {
      return {
        ...base,
        state: 'unprotected',
        reasons: [
          {
            code: 'sensor-stale',
            text: `Falcon knows the sensor but it is not reporting: ${notSeenFor(host, facts.nowSeconds)}, more than coverage.hostStaleAfterHours (${facts.hostStaleAfterHours}). Check that the sensor is still installed and running and can reach the Falcon cloud.`,
          },
        ],
        facts: {
          ...facts_,
          falconDeviceId: host.deviceId,
          ...(host.lastSeen !== undefined ? { lastSeen: host.lastSeen } : {}),
        },
      };
    }
    if (host !== undefined) {
      return {
        ...base,
        state: 'protected',
        reasons: [
          {
            code: 'reporting',
            text: `Falcon sees the sensor (host ${host.hostname ?? host.deviceId}${at(host.lastSeen, 'last seen')}).`,
          },
        ],
        facts: {
          ...facts_,
          falconDeviceId: host.deviceId,
          ...(host.agentVersion !== undefined ? { sensorVersion: host.agentVersion } : {}),
          ...(host.lastSeen !== undefined ? { lastSeen: host.lastSeen } : {}),
        },
      };
    }
    if (hosts === undefined) {
      return {
        ...base,
        state: 'unknown',
        reasons: [
          {
            code: 'falcon-unreadable',
            text: `Falcon's host list could not be read: ${(facts.hosts as { unreadable: string }).unreadable}`,
          },
        ],
        facts: facts_,
      };
    }
    return { ...base, state: 'unprotected', reasons: [whyNot(m, status, association)], facts: facts_ };
  });
  return cellOf(where, items, cellReasons, 'instance');
}

function whyNot(
  managed: ManagedInstance | undefined,
  compliance: string | undefined,
  association: AssociationInfo | undefined,
): CoverageReason {
  if (managed === undefined) {
    return {
      code: 'not-ssm-managed',
      text: 'Not covered: not SSM-managed. Give the instance an instance profile with AmazonSSMManagedInstanceCore and a running SSM Agent (or turn on Default Host Management), or install the sensor another way.',
    };
  }
  if (managed.pingStatus !== 'Online') {
    return {
      code: 'ssm-offline',
      text: `The SSM Agent is ${managed.pingStatus}, so the association cannot run. Check the agent and the instance's network path to Systems Manager.`,
    };
  }
  if (association === undefined) {
    return {
      code: 'no-association',
      text: 'No Falcon association in this region. Enable SSM Distributor for the region and deploy.',
    };
  }
  if (compliance === 'COMPLIANT') {
    return {
      code: 'installed-not-reporting',
      text: 'Installed, not reporting: the association succeeded but Falcon does not see this instance. Check the sensor service, the CID and outbound access to the Falcon cloud.',
    };
  }
  if (compliance !== undefined) {
    return {
      code: 'not-compliant',
      text: `The association is ${compliance} on this instance. Read the instance's association output in Systems Manager.`,
    };
  }
  if (
    association.lastExecutionStatus !== undefined &&
    FAILED_EXECUTION.has(association.lastExecutionStatus)
  ) {
    return failedAssociation(association, '');
  }
  return {
    code: 'association-pending',
    text: 'The association has not run on this instance: it runs at its next schedule (or apply it now in State Manager), unless the instance is outside its targets (features.ssmDistributor.targets tags or resource group).',
  };
}

/**
 * Why the association failed. An IAM denial is named by its action and IAM's reason: the day the
 * automation role (or a boundary or SCP over it) lacks an action, coverage says which one.
 */
function failedAssociation(association: AssociationInfo, when: string): CoverageReason {
  const ended = `The association's last execution ended ${association.lastExecutionStatus ?? 'Failed'}${when}`;
  const failure = association.failure;
  const denied = failure?.accessDenied;
  if (failure !== undefined && denied !== undefined) {
    const on = denied.resource !== undefined ? ` on ${denied.resource}` : '';
    return {
      code: 'association-access-denied',
      text: `${ended}: AccessDenied, the automation role may not call ${denied.action}${on} (${denied.reason}; execution ${failure.executionId}). Grant the action to the role, or lift the permissions boundary or service control policy that denies it.`,
    };
  }
  if (failure !== undefined) {
    return {
      code: 'association-failed',
      text: `${ended}: ${failure.message} (execution ${failure.executionId}).`,
    };
  }
  return {
    code: 'association-failed',
    text: `${ended}. Open its execution history in Systems Manager for the failing instances.`,
  };
}

function at(date: string | undefined, label = ''): string {
  if (date === undefined) return '';
  return label === '' ? ` on ${date}` : `, ${label} ${date}`;
}
