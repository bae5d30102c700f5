import picomatch from 'picomatch';
import { CatalogInputError } from './errors.js';

/** Decides which repositories a scan collects: included by any `include` glob (all when none), and not excluded. */
export type RepositoryFilter = (repository: string) => boolean;

/**
 * Builds the repository filter; exclude wins over include.
 * @example repositoryFilter(['team-a/**'], ['**\/tmp-*'])('team-a/api') === true
 */
export function repositoryFilter(
  include: readonly string[] = [],
  exclude: readonly string[] = [],
): RepositoryFilter {
  const compile = (globs: readonly string[]): ((s: string) => boolean) | undefined => {
    const cleaned = globs.map((g) => g.trim());
    const empty = cleaned.find((g) => g === '');
    if (empty !== undefined) throw new CatalogInputError('a repository glob must not be empty');
    return cleaned.length === 0 ? undefined : picomatch(cleaned, { dot: true });
  };
  const included = compile(include);
  const excluded = compile(exclude);
  return (repository) => (included === undefined || included(repository)) && !excluded?.(repository);
}
