/**
 * The form in which two registry URLs are compared: lowercase scheme and host, default port dropped,
 * no user info, query or fragment, no trailing slash. A URL without a scheme is read as https.
 * Returns the trimmed input unchanged when it cannot be parsed, so comparison still works.
 *
 * @example normalizeRegistryUrl('HTTPS://123456789012.DKR.ECR.us-east-1.amazonaws.com:443/') ===
 *   'https://123456789012.dkr.ecr.us-east-1.amazonaws.com'
 */
export function normalizeRegistryUrl(url: string): string {
  const trimmed = url.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    return trimmed.replace(/\/+$/, '');
  }
  // URL lowercases the scheme and host and drops the scheme's default port.
  const path = parsed.pathname.replace(/\/+$/, '');
  return `${parsed.protocol}//${parsed.host}${path}`;
}

/** True when both URLs name the same registry. */
export function sameRegistryUrl(a: string, b: string): boolean {
  return normalizeRegistryUrl(a) === normalizeRegistryUrl(b);
}
