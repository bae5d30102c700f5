/*
 * The IAM denial inside an error message, as AWS words it: "… is not authorized to perform: <action>
 * on resource: <arn> because <reason>" (the reason names what denied it: no identity-based policy, a
 * permissions boundary, a service control policy, …). Automation repeats the message of the call that
 * failed in the execution's FailureMessage, so a gap in the automation role is named by the action.
 */

/** An action IAM refused, on what, and why. */
export interface AccessDenial {
  readonly action: string;
  readonly resource?: string;
  /**
   * IAM's own reason ("no identity-based policy allows the … action", "with an explicit deny in a
   * service control policy"), or "access denied" when the message gives none.
   */
  readonly reason: string;
}

const NOT_AUTHORIZED =
  /not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9*]+)(?:\s+on resource:?\s+(\S+?))?(?:\s+because\s+([^.\n]+?)|\s+(with an explicit deny[^.\n]*?))?(?=[.\n]|$)/;

/** The first IAM denial named in a message, or undefined when the message names none. */
export function accessDenialIn(message: string): AccessDenial | undefined {
  const match = NOT_AUTHORIZED.exec(message);
  if (match?.[1] === undefined) return undefined;
  const resource = match[2]?.replace(/[,;]$/, '');
  return {
    action: match[1],
    ...(resource !== undefined && resource !== '' ? { resource } : {}),
    reason: (match[3] ?? match[4])?.trim() ?? 'access denied',
  };
}
