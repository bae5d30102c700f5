import type { PreflightFinding } from '../aws/preflight-finding.js';
import { type CallerIdentity, type PreflightClients, runPreflight } from '../aws/preflight.js';
import type { ResolvedConfig } from '../config/load.js';
import { FALCON_DEPLOY_DOCUMENT } from '../infra/features/ssm-association.js';
import type { RootStackInfo } from './deployer.js';
import { PreflightError } from './errors.js';
import { checkFalconClients, type FalconProbeWiring } from './falcon-preflight.js';
import type { Progress } from './progress.js';

export interface GateResult {
  readonly identity: CallerIdentity;
  readonly warnings: readonly string[];
}

/**
 * Runs every pre-flight check, shows warnings as progress lines and throws PreflightError (exit 2)
 * if anything stops the deploy. Needs no synthesized app, so it runs first.
 */
export async function preflightGate(
  clients: PreflightClients,
  config: ResolvedConfig,
  progress: Progress,
  env: NodeJS.ProcessEnv,
  options: {
    readonly checkDistributorDocument?: boolean;
    /** Probe every Falcon API client the deployed features use (deploy does; destroy needs none). */
    readonly falcon?: FalconProbeWiring;
  } = {},
): Promise<GateResult> {
  progress.line(`Pre-flight checks for aws.homeRegion ${config.aws.homeRegion} (${config.aws.partition})...`);
  const ambientRegion = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const result = await runPreflight(clients, {
    partition: config.aws.partition,
    homeRegion: config.aws.homeRegion,
    accountType: config.aws.accountType,
    organizationId: config.organization.id,
    ...(ambientRegion ? { ambientRegion } : {}),
    // Only a deploy creates associations; deleting them needs no document.
    ...(config.features.ssmDistributor.enabled && options.checkDistributorDocument !== false
      ? {
          distributorDocument: {
            name: FALCON_DEPLOY_DOCUMENT,
            version: config.features.ssmDistributor.documentVersion,
            regions: config.derived.ssmRegions,
          },
        }
      : {}),
    ...(config.features.eksProtection.enabled
      ? {
          organizationTrail: {
            regions: config.derived.eksRegions,
            createdByDeployment: config.features.eksProtection.createOrganizationTrail,
            schedule: config.features.eksProtection.schedule,
          },
        }
      : {}),
  });
  const findings = [
    ...result.findings,
    ...(options.falcon !== undefined && result.identity !== undefined
      ? await checkFalconClients(config, env, options.falcon)
      : []),
  ];
  const warnings = findings.filter((f) => f.severity === 'warning').map((f) => `${f.check}: ${f.message}`);
  for (const w of warnings) progress.line(`warning: ${w}`);
  if (!result.identity || findings.some((f) => f.severity === 'error')) throw new PreflightError(findings);
  return { identity: result.identity, warnings };
}

/** The root stack must deploy where the configuration and the credentials say (exit 2 otherwise). */
export function checkRootEnvironment(
  root: RootStackInfo,
  config: ResolvedConfig,
  identity: CallerIdentity,
): void {
  const findings: PreflightFinding[] = [];
  if (root.region && root.region !== config.aws.homeRegion) {
    findings.push({
      check: 'region',
      severity: 'error',
      message: `the root stack is pinned to region ${root.region} but aws.homeRegion is ${config.aws.homeRegion}`,
    });
  }
  if (root.account && root.account !== identity.account) {
    findings.push({
      check: 'credentials',
      severity: 'error',
      message: `the root stack is pinned to account ${root.account} but the credentials are for account ${identity.account}`,
    });
  }
  if (findings.length > 0) throw new PreflightError(findings);
}
