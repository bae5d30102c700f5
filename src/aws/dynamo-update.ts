/**
 * The one way falcon-org writes a DynamoDB UpdateItem expression: what to set, remove and add,
 * keyed by the real attribute names, turned into `SET #u0 = :u0 … REMOVE #u1 ADD #u2 :u2` with
 * every name and value as a placeholder (so no attribute name can collide with a reserved word),
 * plus an optional condition that brings its own placeholders.
 *
 * Hand-written rather than a library: the DocumentClient takes expressions only as strings, and the
 * ones that build them (for example the DynamoDB Toolbox or ElectroDB entity layers) would bring a
 * whole modelling layer for what is a dozen lines here.
 */

export interface ItemUpdate {
  /** Attribute name → value to store (document-client shapes: objects, arrays, numbers, strings). */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Attribute names to remove. */
  readonly remove?: readonly string[];
  /** Attribute name → number to add (a missing attribute counts as 0). */
  readonly add?: Readonly<Record<string, number>>;
}

/** A condition expression with the placeholders it uses (and only those: DynamoDB refuses unused ones). */
export interface UpdateCondition {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

/** The parts of an `UpdateCommandInput` the expression decides. */
export interface UpdateExpressionParts {
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/**
 * @example
 * buildUpdate({ set: { verdict: v }, remove: ['decision'] }, { expression: '#l = :r', names: { '#l': 'lockRunId' }, values: { ':r': id } })
 * // → UpdateExpression 'SET #u0 = :u0 REMOVE #u1', ConditionExpression '#l = :r', names and values of both
 */
export function buildUpdate(update: ItemUpdate, condition?: UpdateCondition): UpdateExpressionParts {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  let next = 0;
  const placeholder = (attribute: string): string => {
    const at = next++;
    names[`#u${at}`] = attribute;
    return String(at);
  };
  const sets = Object.entries(update.set ?? {}).map(([attribute, value]) => {
    const i = placeholder(attribute);
    values[`:u${i}`] = value;
    return `#u${i} = :u${i}`;
  });
  const removes = (update.remove ?? []).map((attribute) => `#u${placeholder(attribute)}`);
  const adds = Object.entries(update.add ?? {}).map(([attribute, by]) => {
    const i = placeholder(attribute);
    values[`:u${i}`] = by;
    return `#u${i} :u${i}`;
  });
  const clauses = [
    sets.length > 0 ? `SET ${sets.join(', ')}` : '',
    removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
    adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
  ].filter((c) => c !== '');
  if (clauses.length === 0) throw new RangeError('an update must set, remove or add at least one attribute');
  const allValues = { ...values, ...(condition?.values ?? {}) };
  return {
    UpdateExpression: clauses.join(' '),
    ...(condition ? { ConditionExpression: condition.expression } : {}),
    ExpressionAttributeNames: { ...names, ...(condition?.names ?? {}) },
    ...(Object.keys(allValues).length > 0 ? { ExpressionAttributeValues: allValues } : {}),
  };
}
