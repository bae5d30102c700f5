import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { FakeDynamoTable } from '../../eks/fake-dynamo.js';
import { listenOnLoopback } from '../../services/free-port.js';
import type { EksClusterFake } from './cluster.js';

/*
 * The AWS side of one deployer run at the HTTP level, for the bundled deployer in its own process
 * (AWS_ENDPOINT_URL points every client here): STS AssumeRole (query protocol), S3 GetObject of the
 * operator manifest (path style), the EKS REST API over EksClusterFake, and DynamoDB GetItem /
 * UpdateItem over FakeDynamoTable. After each mutating call `afterMutation` may kill the process;
 * from then on nothing is answered, as if the calls were still on their way when it died.
 */

type Json = Record<string, unknown>;

export interface AwsStandInOptions {
  readonly cluster: EksClusterFake;
  readonly table: FakeDynamoTable;
  /** S3 objects: "bucket/key" → bytes. */
  readonly objects: ReadonlyMap<string, Uint8Array>;
  /** The access key AssumeRole hands out (the Kubernetes stand-in checks tokens against it). */
  readonly accessKeyId: string;
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export class AwsStandIn {
  /** Mutating calls answered, in order ("UpdateClusterConfig", "UpdateItem", …). */
  readonly mutations: string[] = [];
  /** Called after each mutating call is applied and before it is answered. */
  afterMutation: (name: string, index: number) => void = () => undefined;
  /** Set when the run was killed: every request from then on is left unanswered. */
  frozen = false;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: AwsStandInOptions,
  ) {}

  static async start(options: AwsStandInOptions): Promise<AwsStandIn> {
    const holder: { instance?: AwsStandIn } = {};
    const server = createServer((req, res) => {
      void holder.instance?.handle(req, res);
    });
    const url = await listenOnLoopback(server);
    holder.instance = new AwsStandIn(server, url, options);
    return holder.instance;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.frozen) return;
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const target = String(req.headers['x-amz-target'] ?? '');
    try {
      if (target.startsWith('DynamoDB_20120810.'))
        return this.json(res, 200, this.dynamo(target.slice(18), body));
      if (req.method === 'POST' && new URLSearchParams(body).get('Action') === 'AssumeRole')
        return this.assumeRole(res);
      if (url.pathname.startsWith('/clusters/'))
        return this.json(res, 200, this.eks(req.method ?? '', url.pathname, body));
      const object = this.options.objects.get(decodeURIComponent(url.pathname.slice(1)));
      if (req.method === 'GET' && object) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': object.length });
        res.end(Buffer.from(object));
        return;
      }
      throw new AwsError(404, 'NoSuchKey', `no route ${req.method ?? ''} ${url.pathname}`);
    } catch (error) {
      if (this.frozen) return;
      const e =
        error instanceof AwsError
          ? error
          : new AwsError(
              (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ??
                (error instanceof Error && error.name === 'ResourceInUseException' ? 409 : 404),
              error instanceof Error ? error.name : 'InternalFailure',
              error instanceof Error ? error.message : String(error),
            );
      res.writeHead(e.status === 0 ? 400 : e.status, {
        'content-type': 'application/json',
        'x-amzn-errortype': e.type,
      });
      res.end(JSON.stringify({ __type: e.type, message: e.message }));
    }
  }

  private json(res: ServerResponse, status: number, payload: unknown): void {
    if (this.frozen) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
  }

  private mutated(name: string): void {
    this.mutations.push(name);
    this.afterMutation(name, this.mutations.length - 1);
  }

  private assumeRole(res: ServerResponse): void {
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
        `<AccessKeyId>${this.options.accessKeyId}</AccessKeyId><SecretAccessKey>stand-in</SecretAccessKey>` +
        `<SessionToken>stand-in-session</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><AssumedRoleId>AROASTANDIN:deployer</AssumedRoleId>` +
        `<Arn>arn:aws:sts::111122223333:assumed-role/falcon-org-eks-execution/deployer</Arn></AssumedRoleUser>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  }

  /** The EKS REST routes the deployer calls. */
  private eks(method: string, pathname: string, body: string): unknown {
    const parts = pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    const input = (body === '' ? {} : JSON.parse(body)) as Json;
    const c = this.options.cluster;
    const [, name, collection, principalArn, sub, policyArn] = parts;
    const key = `${method} ${[collection, principalArn === undefined ? '' : 'P', sub, policyArn === undefined ? '' : 'A'].join('/')}`;
    const mutate = <T>(op: string, work: () => T): T => {
      const out = work();
      this.mutated(op);
      return out;
    };
    switch (key) {
      case 'GET ///':
        return c.describeCluster({ name: name ?? '' });
      case 'POST update-config///':
        return mutate('UpdateClusterConfig', () => c.updateClusterConfig(input as never));
      case 'GET updates/P//':
        return c.describeUpdate({ updateId: principalArn ?? '' });
      case 'POST access-entries///':
        return mutate('CreateAccessEntry', () => c.createAccessEntry(input as never));
      case 'GET access-entries/P//':
        return c.describeAccessEntry({ principalArn: principalArn ?? '' });
      case 'DELETE access-entries/P//':
        return mutate('DeleteAccessEntry', () => c.deleteAccessEntry({ principalArn: principalArn ?? '' }));
      case 'POST access-entries/P/access-policies/':
        return mutate('AssociateAccessPolicy', () =>
          c.associateAccessPolicy({
            ...(input as Omit<Parameters<EksClusterFake['associateAccessPolicy']>[0], 'principalArn'>),
            principalArn: principalArn ?? '',
          }),
        );
      case 'GET access-entries/P/access-policies/':
        return c.listAssociatedAccessPolicies({ principalArn: principalArn ?? '' });
      case 'DELETE access-entries/P/access-policies/A':
        return mutate('DisassociateAccessPolicy', () =>
          c.disassociateAccessPolicy({ principalArn: principalArn ?? '', policyArn: policyArn ?? '' }),
        );
      default:
        throw new AwsError(404, 'NotFoundException', `no EKS route ${method} ${pathname}`);
    }
  }

  /** GetItem and UpdateItem, translated to the document-client shapes FakeDynamoTable speaks. */
  private dynamo(operation: string, body: string): unknown {
    const input = JSON.parse(body) as Json;
    const table = this.options.table;
    const key = fromAttribute({ M: input['Key'] }) as Json;
    if (operation === 'GetItem') {
      const item = table.items.get(String(key['pk']));
      return item ? { Item: (toAttribute(item) as { M: Json }).M } : {};
    }
    if (operation !== 'UpdateItem') throw new AwsError(400, 'UnknownOperationException', operation);
    const values = input['ExpressionAttributeValues'] as Json | undefined;
    const update = {
      ...(input as unknown as UpdateCommandInput),
      Key: key,
      ...(values ? { ExpressionAttributeValues: fromAttribute({ M: values }) as Json } : {}),
    };
    try {
      table.update(update);
    } catch (error) {
      throw new AwsError(
        400,
        'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        error instanceof Error ? error.message : String(error),
      );
    }
    this.mutated('UpdateItem');
    return {};
  }
}

/*
 * DynamoDB's attribute-value wire format, for the few types the runs table stores. Written here
 * rather than imported from @aws-sdk/util-dynamodb, which this project does not depend on directly.
 */
function fromAttribute(value: unknown): unknown {
  const v = value as Json;
  if ('S' in v) return v['S'];
  if ('N' in v) return Number(v['N']);
  if ('BOOL' in v) return v['BOOL'];
  if ('NULL' in v) return null;
  if ('L' in v) return (v['L'] as unknown[]).map(fromAttribute);
  if ('M' in v)
    return Object.fromEntries(Object.entries(v['M'] as Json).map(([k, x]) => [k, fromAttribute(x)]));
  throw new Error(`attribute type not supported by the stand-in: ${JSON.stringify(v)}`);
}

function toAttribute(value: unknown): unknown {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  return { M: Object.fromEntries(Object.entries(value as Json).map(([k, x]) => [k, toAttribute(x)])) };
}
