/**
 * `eks-event`: one CloudTrail CreateCluster / CreateFargateProfile event forwarded by a member rule to
 * the central bus. Malformed and out-of-scope events are logged and dropped (returning normally, so
 * EventBridge does not retry them); unexpected failures (the member role, DynamoDB, CodeBuild) throw,
 * so EventBridge's retries and the dead-letter queue take over.
 */
import {
  createEksHomeClients,
  createEksServices,
  type EksHomeClients,
  type EksServices,
} from '../eks/aws-deps.js';
import { readEksEnvironment, type EksEnvironment } from './shared/eks-environment.js';
import { handleClusterEvent, type EventOutcome } from '../eks/handle-event.js';
import type { LambdaContext } from './shared/lambda.js';
import { createHandlerLogger, withInvocationLog, type HandlerLogger } from './shared/logger.js';

export interface EksEventHandlerOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly services?: (env: EksEnvironment) => EksServices;
  /** Backoff waits of member-account calls (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

let moduleClients: EksHomeClients | undefined;
let moduleServices: { env: string; services: EksServices } | undefined;

function defaultServices(env: EksEnvironment): EksServices {
  moduleClients ??= createEksHomeClients(env.settings.homeRegion);
  // Kept across warm invocations: the scope cache and member credentials are reused.
  const key = JSON.stringify(env);
  if (moduleServices?.env !== key) {
    moduleServices = { env: key, services: createEksServices(env, moduleClients, 'falcon-org-eks-event') };
  }
  return moduleServices.services;
}

export function createEksEventHandler(options: EksEventHandlerOptions = {}) {
  const services = options.services ?? defaultServices;
  const logger = createHandlerLogger('falcon-org-eks-event');
  return withInvocationLog(logger, async (event: unknown, _context: LambdaContext): Promise<EventOutcome> => {
    logger.debug('eks event received', eventSummary(event));
    const env = readEksEnvironment(options.env ?? process.env);
    const deps = services(env);
    const s = env.settings;
    const outcome = await handleClusterEvent(
      event,
      { ...deps, inScope: (accountId) => deps.scope.has(accountId) },
      {
        regions: s.regions,
        ...(s.minKubernetesVersion ? { minKubernetesVersion: s.minKubernetesVersion } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
      },
    );
    log(logger, outcome);
    return outcome;
  });
}

/** What identifies the delivered event, for the debug line (the CloudTrail detail stays out). */
function eventSummary(event: unknown): Record<string, unknown> {
  if (typeof event !== 'object' || event === null) return { type: typeof event };
  const e = event as Record<string, unknown>;
  return { id: e.id, 'detail-type': e['detail-type'], account: e.account, region: e.region };
}

function log(logger: HandlerLogger, outcome: EventOutcome): void {
  switch (outcome.action) {
    case 'dropped':
      logger.warn('dropped malformed eks event', { reason: outcome.reason });
      return;
    case 'ignored':
      logger.info('ignored eks event', { ...outcome.event, reason: outcome.reason });
      return;
    case 'judged':
      logger[outcome.run?.status === 'failed' ? 'error' : 'info']('eks event', {
        ...outcome.event,
        facts: outcome.facts,
        verdict: outcome.verdict,
        run: outcome.run ?? { status: 'not-started', reason: 'ineligible' },
        ...(outcome.followUp ? { followUp: outcome.followUp } : {}),
      });
  }
}

export const handler = createEksEventHandler();
