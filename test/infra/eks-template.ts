/** A CloudFormation value as it appears in a synthesized template. */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };

/**
 * Evaluates the intrinsic functions a template uses to build ARNs and JSON strings (`Fn::Join`,
 * `Ref`, `Fn::Select` of a `Fn::GetAtt`) the way CloudFormation would, with `refs` giving the value
 * of each `Ref`. An unknown `Ref` fails the test; with `lenient`, a `Fn::GetAtt` becomes
 * `<Attribute[index]>` so a shape can be asserted without knowing the deploy-time value.
 */
export function resolveJoin(
  value: CfnValue,
  refs: Readonly<Record<string, string>>,
  lenient = false,
): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  }
  const join = value['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, CfnValue[]];
    return parts.map((p) => resolveJoin(p, refs, lenient)).join(separator);
  }
  const ref = value['Ref'];
  if (typeof ref === 'string') {
    const resolved = refs[ref];
    if (resolved === undefined) throw new Error(`no value for Ref ${ref}`);
    return resolved;
  }
  const select = value['Fn::Select'];
  if (lenient && Array.isArray(select)) {
    const [index, list] = select as [number, CfnValue];
    const attribute = (list as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[1] ?? '?';
    return `<${attribute}[${index}]>`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}
