import { createLineLogger, type LineLogger, type LogFields } from '../shared/log-line.js';

/** `service` on the deployer's log lines. */
export const DEPLOYER_LOG_SERVICE = 'falcon-org-eks-deployer';

/**
 * The deployer's logger: the handlers' line shape (`{level, message, timestamp, service, …}`), written
 * to the sink the deployer is given; `fields` (the cluster and run ID) go on every line.
 */
export function deployerLog(
  write: (line: string) => void,
  now: () => number,
  fields?: LogFields,
): LineLogger {
  return createLineLogger({ service: DEPLOYER_LOG_SERVICE, write, now, ...(fields ? { fields } : {}) });
}
