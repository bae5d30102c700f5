import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  LATE_RESULT_CONDITION,
  RELEASE_LOCK_CONDITION,
  TAKE_LOCK_CONDITION,
} from '../../src/eks/runs-table.js';

type Item = Record<string, unknown>;

/**
 * A stateful stand-in for one DynamoDB table behind the document client: it applies SET / REMOVE
 * update expressions and evaluates the three condition expressions the runs table uses (any other
 * condition fails the test), one request at a time as DynamoDB does per item. Scans come back in
 * pages of `pageSize` items so paging is exercised.
 */
export class FakeDynamoTable {
  readonly mock = mockClient(DynamoDBDocumentClient);
  /** The mock replaces send on every document client, so the wrapped client is never called. */
  readonly client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  );
  readonly items = new Map<string, Item>();
  pageSize = 2;
  /** Errors to answer the next requests with, whatever they are (FIFO). */
  readonly failNext: Error[] = [];

  constructor(readonly tableName: string) {
    this.mock.on(UpdateCommand).callsFake(async (input: UpdateCommandInput) => {
      await Promise.resolve(); // let concurrent callers all be in flight before any is applied
      this.checkTable(input.TableName);
      this.maybeFail();
      this.update(input);
      return {};
    });
    this.mock.on(GetCommand).callsFake(async (input: { TableName?: string; Key?: Item }) => {
      await Promise.resolve();
      this.checkTable(input.TableName);
      this.maybeFail();
      const item = this.items.get(String(input.Key?.pk));
      return item ? { Item: structuredClone(item) } : {};
    });
    this.mock.on(ScanCommand).callsFake(async (input: { TableName?: string; ExclusiveStartKey?: Item }) => {
      await Promise.resolve();
      this.checkTable(input.TableName);
      this.maybeFail();
      const keys = [...this.items.keys()].sort();
      const start = input.ExclusiveStartKey ? keys.indexOf(String(input.ExclusiveStartKey.pk)) + 1 : 0;
      const page = keys.slice(start, start + this.pageSize);
      const more = start + this.pageSize < keys.length;
      return {
        Items: page.map((k) => structuredClone(this.items.get(k))),
        ...(more ? { LastEvaluatedKey: { pk: page[page.length - 1] } } : {}),
      };
    });
  }

  /** Applies one update (document-client shapes); throws ConditionalCheckFailedException as DynamoDB does. */
  update(input: UpdateCommandInput): void {
    const key = String(input.Key?.pk);
    const current = this.items.get(key);
    if (!this.holds(input.ConditionExpression, current, input)) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
      });
    }
    this.items.set(key, apply(current ?? { pk: key }, input));
  }

  reset(): void {
    this.mock.reset();
    this.mock.restore();
  }

  private checkTable(name: string | undefined): void {
    if (name !== this.tableName) throw new Error(`unexpected table ${name ?? '(none)'}`);
  }

  private maybeFail(): void {
    const error = this.failNext.shift();
    if (error) throw error;
  }

  private holds(condition: string | undefined, item: Item | undefined, input: UpdateCommandInput): boolean {
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const attr = (alias: string): unknown => item?.[names[alias] ?? alias];
    switch (condition) {
      case undefined:
        return true;
      case TAKE_LOCK_CONDITION:
        return attr('#lockRunId') === undefined || Number(attr('#lockExpiresAt')) < Number(values[':now']);
      case RELEASE_LOCK_CONDITION:
        return attr('#lockRunId') !== undefined && attr('#lockRunId') === values[':runId'];
      case LATE_RESULT_CONDITION: {
        const last = attr('#lastRun') as Item | undefined;
        return last === undefined || String(last[names['#startedAt'] ?? '']) <= String(values[':startedAt']);
      }
      default:
        throw new Error(`the fake does not know the condition "${condition}"`);
    }
  }
}

/**
 * Applies `SET a = :x, b = :y REMOVE c, d ADD n :one` (clauses in any order, as DynamoDB takes them)
 * with names and values substituted; ADD adds to a number, a missing one counting as 0.
 */
function apply(item: Item, input: UpdateCommandInput): Item {
  const next: Item = structuredClone(item);
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const expression = input.UpdateExpression ?? '';
  const clauses = new Map<string, string>();
  const parts = expression.split(/\b(SET|REMOVE|ADD)\b/).map((p) => p.trim());
  if (parts[0] !== '' || parts.length < 3) throw new Error(`the fake does not understand "${expression}"`);
  for (let i = 1; i < parts.length; i += 2) clauses.set(parts[i] ?? '', parts[i + 1] ?? '');
  if (!clauses.has('SET') && !clauses.has('REMOVE') && !clauses.has('ADD')) {
    throw new Error(`the fake does not understand "${expression}"`);
  }
  const set = clauses.get('SET');
  for (const assignment of set ? set.split(',') : []) {
    const [left, right] = assignment.split('=').map((s) => s.trim());
    if (!left || !right || !(right in values)) throw new Error(`bad assignment "${assignment}"`);
    next[names[left] ?? left] = structuredClone(values[right]);
  }
  const remove = clauses.get('REMOVE');
  for (const removed of remove ? remove.split(',') : []) delete next[names[removed.trim()] ?? removed.trim()];
  const add = clauses.get('ADD');
  for (const addition of add ? add.split(',') : []) {
    const [left, right] = addition.trim().split(/\s+/);
    const by: unknown = right !== undefined ? values[right] : undefined;
    if (!left || typeof by !== 'number') throw new Error(`bad addition "${addition}"`);
    const name = names[left] ?? left;
    const current = next[name];
    next[name] = (typeof current === 'number' ? current : 0) + by;
  }
  return next;
}
