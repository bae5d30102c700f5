/**
 * The target of the `rel="next"` link of an RFC 5988 `Link` header, resolved against the request
 * URL, or undefined when there is no next page. Registries send e.g.
 * `</v2/_catalog?last=b&n=2>; rel="next"`.
 */
export function nextLink(header: string | null, requestUrl: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m?.[1]) continue;
    const rels =
      /;\s*rel\s*=\s*"?([^";]+)"?/i
        .exec(m[2] ?? '')?.[1]
        ?.toLowerCase()
        .split(/\s+/) ?? [];
    if (rels.includes('next')) return new URL(m[1], requestUrl).toString();
  }
  return undefined;
}
