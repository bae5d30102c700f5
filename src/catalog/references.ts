/**
 * The distribution spec's grammar for repository names and tags. Names and tags that arrive in
 * events are someone else's input and end up in request paths: anything outside the grammar
 * (`..`, `?`, `%2F`, spaces) is refused before it is used.
 */
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Repository names are at most 255 characters in practice (ECR: 256; docker-registry: 255). */
const MAX_REPOSITORY = 256;

/** True for a repository name the distribution spec allows. */
export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_REPOSITORY && REPOSITORY.test(name);
}

/** True for a tag the distribution spec allows. */
export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

/** True for a sha256 content digest (the only algorithm registries use in practice). */
export function isDigest(reference: string): boolean {
  return DIGEST.test(reference);
}
