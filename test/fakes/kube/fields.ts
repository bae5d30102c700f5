/*
 * Field ownership for server-side apply, simplified: a field is a path of object keys; arrays and
 * scalars are leaves (atomic), as for lists without merge keys.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type FieldPath = readonly string[];

const IDENTITY = new Set(['apiVersion', 'kind']);
const META_IDENTITY = new Set([
  'name',
  'namespace',
  'managedFields',
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
]);

/** Every leaf path of an applied configuration (identity fields excluded). */
export function leafPaths(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  // An empty object applied on purpose is a leaf of its own.
  if (Object.keys(value).length === 0) return prefix.length === 0 ? [] : [prefix];
  const out: string[][] = [];
  for (const [key, child] of Object.entries(value)) {
    if (prefix.length === 0 && (IDENTITY.has(key) || key === 'status')) continue;
    if (prefix.length === 1 && prefix[0] === 'metadata' && META_IDENTITY.has(key)) continue;
    out.push(...leafPaths(child, [...prefix, key]));
  }
  return out;
}

export function getAt(value: Json | undefined, path: FieldPath): Json | undefined {
  let current: Json | undefined = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function setAt(target: { [key: string]: Json }, path: FieldPath, value: Json): void {
  let current = target;
  path.slice(0, -1).forEach((key) => {
    const next = current[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[key] = {};
    current = current[key] as { [key: string]: Json };
  });
  const last = path[path.length - 1];
  if (last !== undefined) current[last] = structuredClone(value);
}

export function deleteAt(target: { [key: string]: Json }, path: FieldPath): void {
  const parents: { [key: string]: Json }[] = [target];
  let current: Json | undefined = target;
  for (const key of path.slice(0, -1)) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return;
    current = current[key];
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return;
    parents.push(current);
  }
  const last = path[path.length - 1];
  const parent = parents[parents.length - 1];
  if (last !== undefined && parent) delete parent[last];
  // Drop objects the removal left empty.
  for (let i = parents.length - 1; i > 0; i--) {
    const p = parents[i];
    const key = path[i - 1];
    if (p && Object.keys(p).length === 0 && key !== undefined) {
      const grand = parents[i - 1];
      if (grand) delete grand[key];
    }
  }
}

export const pathKey = (path: FieldPath): string => path.join('\u0000');

/** `managedFields[].fieldsV1` in the API server's "f:" notation. */
export function fieldsV1(paths: readonly FieldPath[]): Json {
  const root: { [key: string]: Json } = {};
  for (const path of paths) {
    let current = root;
    for (const key of path) {
      const k = `f:${key}`;
      current[k] ??= {};
      current = current[k] as { [key: string]: Json };
    }
  }
  return root;
}

/** JSON with object keys sorted, so equal documents compare equal whatever their key order. */
export function stableJson(value: Json | undefined): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  return stableJson(a) === stableJson(b);
}
