import { describe, expect, it } from 'vitest';
import { buildUpdate } from '../../src/aws/dynamo-update.js';

describe('buildUpdate', () => {
  it('turns set, remove and add into one expression with a placeholder for every name and value', () => {
    expect(
      buildUpdate({
        set: { verdict: { code: 'x' }, 'updated-at': 't' },
        remove: ['decision'],
        add: { streak: 1 },
      }),
    ).toEqual({
      UpdateExpression: 'SET #u0 = :u0, #u1 = :u1 REMOVE #u2 ADD #u3 :u3',
      ExpressionAttributeNames: { '#u0': 'verdict', '#u1': 'updated-at', '#u2': 'decision', '#u3': 'streak' },
      ExpressionAttributeValues: { ':u0': { code: 'x' }, ':u1': 't', ':u3': 1 },
    });
  });

  it('adds the condition with its own placeholders, and leaves values out when there are none (DynamoDB refuses an empty map)', () => {
    expect(
      buildUpdate(
        { remove: ['lockRunId'] },
        { expression: 'attribute_exists(#l)', names: { '#l': 'lockRunId' } },
      ),
    ).toEqual({
      UpdateExpression: 'REMOVE #u0',
      ConditionExpression: 'attribute_exists(#l)',
      ExpressionAttributeNames: { '#u0': 'lockRunId', '#l': 'lockRunId' },
    });
  });

  it('refuses an update that changes nothing', () => {
    expect(() => buildUpdate({ set: {}, remove: [], add: {} })).toThrow(/at least one attribute/);
  });
});
