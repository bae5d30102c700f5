/*
 * Secrets that must not travel in `LinuxInstallerParams` / `WindowsInstallerParams`. Those strings are
 * association parameters: stored in plain text by State Manager, shown to anyone allowed to describe
 * the association, and recorded by CloudTrail. CrowdStrike-FalconSensorDeploy fetches the CID and the
 * installation token itself (HandlePreqrequisites reads them from the Falcon API with the secret the
 * deployment creates), so no install flag needs one.
 *
 * The detection is deliberately plain: the option names CrowdStrike's Linux (falconctl) and Windows
 * (WindowsSensor.exe) installers take for secrets, a bare CID anywhere, and credentials written into a
 * proxy URL. It cannot know every secret; README says so.
 */

/** A secret found in installer flags, with the value it was found in and the secret withheld. */
export interface InstallerSecret {
  /** What it is, for the message ("a CID (--cid)"). */
  readonly what: string;
  /** How to do without it. */
  readonly fix: string;
  /** The flags with the secret replaced by `<withheld>`, safe to print. */
  readonly redacted: string;
}

const FETCHED =
  'CrowdStrike-FalconSensorDeploy fetches the CID and the installation token from the Falcon API at run time; remove it.';

interface Rule {
  readonly re: RegExp;
  /** Index of the capture group holding the secret. */
  readonly group: number;
  readonly what: (match: RegExpExecArray) => string;
  readonly fix: string;
}

/** An option name followed by `=value` or (for `--long` options) ` value`. */
const option = (names: string) =>
  new RegExp(
    `(^|[\\s"'])((?:--(?:${names}))(?:\\s*=\\s*|\\s+)|(?:${names.replace(/-/g, '_')})\\s*=\\s*)("[^"]*"|'[^']*'|\\S+)`,
    'i',
  );

const RULES: readonly Rule[] = [
  {
    re: option('cid'),
    group: 3,
    what: (m) => `a CID (${optionName(m)})`,
    fix: FETCHED,
  },
  {
    re: option('provisioning-token|provtoken'),
    group: 3,
    what: (m) => `an installation token (${optionName(m)})`,
    fix: FETCHED,
  },
  {
    re: option('maintenance-token'),
    group: 3,
    what: (m) => `a maintenance token (${optionName(m)})`,
    fix: 'Maintenance tokens protect a host against uninstalling; remove it and manage sensor updates and removal in Falcon.',
  },
  {
    re: option('client-secret|falcon-client-secret|clientsecret'),
    group: 3,
    what: (m) => `a Falcon API client secret (${optionName(m)})`,
    fix: 'The Falcon API credentials come from falcon.credentials; remove it.',
  },
  {
    // A CID (32 hex digits, optionally with its checksum) anywhere in the flags.
    re: /(^|[^0-9a-f])([0-9a-f]{32}(?:-[0-9a-f]{2})?)(?![0-9a-f])/i,
    group: 2,
    what: () => 'a CID',
    fix: FETCHED,
  },
  {
    // user:password@ in a URL, e.g. a proxy.
    re: /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)([^\s/@]+)(?=@)/i,
    group: 2,
    what: () => 'a password in a URL',
    fix: 'Use a proxy that does not need credentials in its URL (for example one that allows the instances by address).',
  },
];

/** The first secret found in installer flags, or undefined. */
export function secretInInstallerParams(value: string): InstallerSecret | undefined {
  for (const rule of RULES) {
    const match = rule.re.exec(value);
    const secret = match?.[rule.group];
    if (match === null || secret === undefined) continue;
    const start = match.index + match.slice(1, rule.group).reduce((n, part) => n + (part ?? '').length, 0);
    return {
      what: rule.what(match),
      fix: rule.fix,
      redacted: withheld(value.slice(0, start) + '<withheld>' + value.slice(start + secret.length)),
    };
  }
  return undefined;
}

/** Withholds any further secret in the rest of the value too, so the redacted text is safe whole. */
function withheld(value: string): string {
  let text = value;
  for (const rule of RULES) {
    const global = new RegExp(rule.re.source, 'gi');
    text = text.replace(global, (...args: unknown[]) => {
      const groups = args.slice(1, -2) as (string | undefined)[];
      return groups.map((g, i) => (i + 1 === rule.group ? '<withheld>' : (g ?? ''))).join('');
    });
  }
  return text;
}

function optionName(match: RegExpExecArray): string {
  return (match[2] ?? '').replace(/[\s=]+$/, '');
}
