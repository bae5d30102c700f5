/**
 * A local HTTP stand-in for the AWS operations `falcon-org status` (and the coverage function) call,
 * answering in each service's own wire protocol so the unchanged SDK v3 clients run against it
 * through the SDK's endpoint setting (`AWS_ENDPOINT_URL`): Organizations, SSM and DynamoDB (JSON),
 * STS and CloudFormation (query, XML), EC2 (EC2 query, XML), Account and EKS (REST JSON). Which
 * account a call is for comes from the access key in its signature (AssumeRole issues one per
 * account), the service and region from the signature's scope. Request shapes are checked against
 * the API references (a call outside them is answered ValidationException), and every call, TCP
 * connection and answer is counted.
 *
 * @example
 * const aws = await AwsStandIn.start(model);
 * process.env.AWS_ENDPOINT_URL = aws.url;
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { marshall } from '@aws-sdk/util-dynamodb';
import { listenOnLoopback } from '../../services/free-port.js';
import type { ModelAccount, ModelInstance, OrgModel } from './model.js';

/** Access keys AssumeRole issues: this prefix and the account ID. */
const MEMBER_KEY_PREFIX = 'ASIAFAKE';

interface Call {
  readonly service: string;
  readonly region: string;
  /** The account whose credentials signed the call (the home account for the caller's own keys). */
  readonly account: string;
  readonly operation: string;
  readonly body: string;
  readonly url: URL;
}

type Answer = { status: number; type: string; body: string; headers?: Record<string, string> };

class AwsFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface AwsStandInOptions {
  /**
   * Answer ListComplianceItems without ResourceIds with every association compliance item of the region
   * (as the code before issue 19 point 9 expected), so the benchmark can run that code for its baseline.
   * @default false: refused, as documented ("one resource ID")
   */
  readonly listComplianceItemsOfEveryResource?: boolean;
}

const PROTOCOL: Readonly<Record<string, 'json' | 'query' | 'ec2' | 'rest'>> = {
  organizations: 'json',
  ssm: 'json',
  dynamodb: 'json',
  monitoring: 'json',
  sts: 'query',
  cloudformation: 'query',
  ec2: 'ec2',
  account: 'rest',
  eks: 'rest',
};

export class AwsStandIn {
  /** Calls per `service.Operation`. */
  readonly calls = new Map<string, number>();
  /** Calls per `service.Operation` and account, for tests that look at one account. */
  readonly callsByAccount = new Map<string, number>();
  connections = 0;
  openConnections = 0;
  peakOpenConnections = 0;
  /** `service.Operation` → answers still to throttle (Infinity: every one). */
  readonly throttles = new Map<string, number>();
  /** `service.Operation` → error code to answer with (e.g. AccessDeniedException). */
  readonly denials = new Map<string, string>();
  /** The TableName of every DynamoDB Scan, in order. */
  readonly scannedTables: string[] = [];
  private readonly server: Server;
  private url0 = '';
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly model: OrgModel,
    private readonly options: AwsStandInOptions,
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (socket: Socket) => {
      this.connections += 1;
      this.openConnections += 1;
      this.peakOpenConnections = Math.max(this.peakOpenConnections, this.openConnections);
      this.sockets.add(socket);
      socket.on('close', () => {
        this.openConnections -= 1;
        this.sockets.delete(socket);
      });
    });
  }

  static async start(model: OrgModel, options: AwsStandInOptions = {}): Promise<AwsStandIn> {
    const standIn = new AwsStandIn(model, options);
    standIn.url0 = await listenOnLoopback(standIn.server);
    return standIn;
  }

  get url(): string {
    return this.url0;
  }

  /** Total calls. */
  get total(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  count(key: string, account?: string): number {
    return account === undefined
      ? (this.calls.get(key) ?? 0)
      : (this.callsByAccount.get(`${key}@${account}`) ?? 0);
  }

  reset(): void {
    this.calls.clear();
    this.callsByAccount.clear();
    this.throttles.clear();
    this.denials.clear();
    this.scannedTables.length = 0;
    this.connections = 0;
    this.peakOpenConnections = this.openConnections;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let protocol: 'json' | 'query' | 'ec2' | 'rest' = 'json';
      let answer: Answer;
      try {
        const call = this.parse(req, body);
        protocol = PROTOCOL[call.service] ?? 'json';
        const key = `${call.service}.${call.operation}`;
        this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
        const byAccount = `${key}@${call.account}`;
        this.callsByAccount.set(byAccount, (this.callsByAccount.get(byAccount) ?? 0) + 1);
        const throttle = this.throttles.get(key) ?? 0;
        if (throttle > 0) {
          this.throttles.set(key, throttle - 1);
          throw new AwsFault(
            protocol === 'ec2'
              ? 'RequestLimitExceeded'
              : protocol === 'query'
                ? 'Throttling'
                : 'ThrottlingException',
            'Rate exceeded',
            protocol === 'ec2' ? 503 : 400,
          );
        }
        const denied = this.denials.get(key);
        if (denied !== undefined)
          throw new AwsFault(denied, `User is not authorized to perform: ${key}`, 400);
        answer = this.operate(call, protocol);
      } catch (error) {
        answer = faultAnswer(error, protocol);
      }
      res.writeHead(answer.status, {
        'content-type': answer.type,
        'x-amzn-requestid': 'fake-request',
        ...(answer.headers ?? {}),
      });
      res.end(answer.body);
    });
  }

  private parse(req: IncomingMessage, body: string): Call {
    const auth = String(req.headers.authorization ?? '');
    const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
    if (!scope)
      throw new AwsFault('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    const [, key = '', region = '', service = ''] = scope;
    const account = key.startsWith(MEMBER_KEY_PREFIX)
      ? key.slice(MEMBER_KEY_PREFIX.length, MEMBER_KEY_PREFIX.length + 12)
      : this.model.managementAccountId;
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const protocol = PROTOCOL[service];
    let operation = '';
    if (protocol === 'json')
      operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
    else if (protocol === 'query' || protocol === 'ec2')
      operation = new URLSearchParams(body).get('Action') ?? '';
    else if (service === 'account' && url.pathname === '/listRegions') operation = 'ListRegions';
    else if (service === 'eks' && req.method === 'GET' && url.pathname === '/clusters')
      operation = 'ListClusters';
    if (operation === '')
      throw new AwsFault(
        'UnknownOperationException',
        `${service}: ${req.method} ${url.pathname} is not an operation of this stand-in`,
      );
    return { service, region, account, operation, body, url };
  }

  private operate(call: Call, protocol: 'json' | 'query' | 'ec2' | 'rest'): Answer {
    const input =
      protocol === 'json' || (protocol === 'rest' && call.body !== '')
        ? (JSON.parse(call.body || '{}') as Record<string, unknown>)
        : {};
    const form = new URLSearchParams(call.body);
    switch (`${call.service}.${call.operation}`) {
      case 'organizations.ListAccountsForParent':
        return json(this.listAccounts(input));
      case 'organizations.ListOrganizationalUnitsForParent':
        return json(this.listOus(input));
      case 'organizations.DescribeOrganization':
        return json({
          Organization: {
            Id: this.model.organizationId,
            MasterAccountId: this.model.managementAccountId,
            Arn: `arn:aws:organizations::${this.model.managementAccountId}:organization/${this.model.organizationId}`,
            FeatureSet: 'ALL',
          },
        });
      case 'organizations.DescribeAccount': {
        const a = this.model.account(String(input.AccountId));
        if (!a)
          throw new AwsFault(
            'AccountNotFoundException',
            `account ${String(input.AccountId)} is not in the organization`,
          );
        return json({
          Account: this.accountShape(a),
        });
      }
      case 'sts.AssumeRole':
        return xml(this.assumeRole(form));
      case 'cloudformation.DescribeStacks':
        return xml(this.describeStacks(form));
      case 'account.ListRegions':
        return json({
          Regions: this.member(call).enabledRegions.map((r) => ({
            RegionName: r,
            RegionOptStatus: 'ENABLED_BY_DEFAULT',
          })),
        });
      case 'ec2.DescribeInstances':
        return xml(this.describeInstances(call, form));
      case 'eks.ListClusters':
        return json(this.listClusters(call));
      case 'ssm.DescribeInstanceInformation':
        return json(this.describeInstanceInformation(call, input));
      case 'ssm.ListAssociations':
        return json(this.listAssociations(call, input));
      case 'ssm.ListResourceComplianceSummaries':
        return json(this.listResourceComplianceSummaries(call, input));
      case 'ssm.DescribeInstanceAssociationsStatus':
        return json(this.describeInstanceAssociationsStatus(call, input));
      case 'ssm.ListComplianceItems':
        return json(this.listComplianceItems(call, input));
      case 'ssm.GetParameter': {
        const name = text(input.Name);
        const value = this.member(call).parameter(name);
        if (value === undefined) throw new AwsFault('ParameterNotFound', `Parameter ${name} not found.`);
        return json({
          Parameter: { Name: name, Type: 'String', Value: value, Version: 1, DataType: 'text' },
        });
      }
      case 'dynamodb.Scan':
        return json(this.scan(input), 'application/x-amz-json-1.0');
      default:
        throw new AwsFault(
          'UnknownOperationException',
          `${call.service}.${call.operation} is not answered by this stand-in`,
        );
    }
  }

  private member(call: Call): ModelAccount {
    const account = this.model.account(call.account);
    if (account === undefined)
      throw new AwsFault(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        400,
      );
    return account;
  }

  private instances(call: Call): readonly ModelInstance[] {
    return this.member(call).region(call.region)?.instances ?? [];
  }

  /** An account as Organizations describes it (DescribeAccount, ListAccountsForParent). */
  private accountShape(a: ModelAccount): Record<string, string> {
    return {
      Id: a.id,
      Name: a.name,
      Status: a.state,
      State: a.state,
      Arn: `arn:aws:organizations::${this.model.managementAccountId}:account/${this.model.organizationId}/${a.id}`,
      Email: `${a.id}@example.com`,
    };
  }

  private listAccounts(input: Record<string, unknown>): unknown {
    const parent = text(input.ParentId);
    const ids = this.model.children(parent).accounts;
    const { page, next } = paged(ids, input.NextToken, 20);
    return {
      Accounts: page.flatMap((id) => {
        const a = this.model.account(id);
        if (!a) return [];
        return [this.accountShape(a)];
      }),
      ...(next !== undefined ? { NextToken: next } : {}),
    };
  }

  private listOus(input: Record<string, unknown>): unknown {
    const ous = this.model.children(text(input.ParentId)).ous;
    const { page, next } = paged(ous, input.NextToken, 20);
    return {
      OrganizationalUnits: page.map((ou) => ({
        Id: ou.id,
        Name: ou.name,
        Arn: `arn:aws:organizations::${this.model.managementAccountId}:ou/${this.model.organizationId}/${ou.id}`,
      })),
      ...(next !== undefined ? { NextToken: next } : {}),
    };
  }

  private assumeRole(form: URLSearchParams): string {
    const roleArn = form.get('RoleArn') ?? '';
    const account = /^arn:[\w-]+:iam::(\d{12}):role\//.exec(roleArn)?.[1];
    const target = account === undefined ? undefined : this.model.account(account);
    if (!target || !target.assumable) {
      throw new AwsFault(
        'AccessDenied',
        `User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    }
    const expiration = new Date(Date.now() + 3_600_000).toISOString();
    return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${MEMBER_KEY_PREFIX}${target.id}</AccessKeyId><SecretAccessKey>fake-secret</SecretAccessKey><SessionToken>fake-session-${target.id}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKE:${esc(form.get('RoleSessionName') ?? '')}</AssumedRoleId><Arn>${esc(roleArn)}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></AssumeRoleResponse>`;
  }

  private describeStacks(form: URLSearchParams): string {
    const name = form.get('StackName') ?? '';
    const outputs = this.model.stackOutputs(name);
    if (outputs === undefined) throw new AwsFault('ValidationError', `Stack with id ${name} does not exist`);
    const members = Object.entries(outputs)
      .map(
        ([k, v]) => `<member><OutputKey>${esc(k)}</OutputKey><OutputValue>${esc(v)}</OutputValue></member>`,
      )
      .join('');
    return `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${esc(name)}</StackName><StackId>arn:aws:cloudformation:us-east-1:${this.model.managementAccountId}:stack/${esc(name)}/fake</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></DescribeStacksResponse>`;
  }

  private describeInstances(call: Call, form: URLSearchParams): string {
    const max = Number(form.get('MaxResults') ?? '1000');
    if (!(max >= 5 && max <= 1000))
      throw new AwsFault('InvalidParameterValue', 'MaxResults must be between 5 and 1000');
    const { page, next } = paged(this.instances(call), form.get('NextToken') ?? undefined, max);
    const items = page
      .map((i) => {
        const tags = Object.entries({ ...(i.name !== undefined ? { Name: i.name } : {}), ...(i.tags ?? {}) })
          .map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`)
          .join('');
        return `<item><instanceId>${i.id}</instanceId><instanceState><code>16</code><name>running</name></instanceState><platformDetails>Linux/UNIX</platformDetails><tagSet>${tags}</tagSet></item>`;
      })
      .join('');
    const reservations =
      page.length === 0
        ? ''
        : `<item><reservationId>r-fake</reservationId><ownerId>${call.account}</ownerId><instancesSet>${items}</instancesSet></item>`;
    return `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fake</requestId><reservationSet>${reservations}</reservationSet>${next !== undefined ? `<nextToken>${next}</nextToken>` : ''}</DescribeInstancesResponse>`;
  }

  private listClusters(call: Call): unknown {
    const max = Number(call.url.searchParams.get('maxResults') ?? '100');
    if (!(max >= 1 && max <= 100))
      throw new AwsFault('InvalidParameterException', 'maxResults must be 1-100');
    const clusters = this.member(call).region(call.region)?.clusters ?? [];
    const { page, next } = paged(clusters, call.url.searchParams.get('nextToken') ?? undefined, max);
    return { clusters: page, ...(next !== undefined ? { nextToken: next } : {}) };
  }

  private describeInstanceInformation(call: Call, input: Record<string, unknown>): unknown {
    const max = Number(input.MaxResults ?? 50);
    if (!(max >= 5 && max <= 50)) throw new AwsFault('ValidationException', 'MaxResults must be 5-50');
    const managed = this.instances(call).filter((i) => i.ssm !== undefined);
    const { page, next } = paged(managed, input.NextToken, max);
    return {
      InstanceInformationList: page.map((i) => ({
        InstanceId: i.id,
        PingStatus: i.ssm,
        PlatformType: 'Linux',
        ResourceType: 'EC2Instance',
      })),
      ...(next !== undefined ? { NextToken: next } : {}),
    };
  }

  private listAssociations(call: Call, input: Record<string, unknown>): unknown {
    const max = Number(input.MaxResults ?? 50);
    if (!(max >= 1 && max <= 50)) throw new AwsFault('ValidationException', 'MaxResults must be 1-50');
    const filters = (input.AssociationFilterList ?? []) as { key?: string; value?: string }[];
    const association = this.member(call).region(call.region)?.association;
    const wanted = filters.find((f) => f.key === 'AssociationName')?.value;
    const list = association && (wanted === undefined || wanted === association.name) ? [association] : [];
    return {
      Associations: list.map((a) => ({
        Name: 'CrowdStrike-FalconSensorDeploy',
        AssociationId: a.id,
        AssociationName: a.name,
        AssociationVersion: '1',
        Overview: { Status: a.status, DetailedStatus: a.status },
        LastExecutionDate: Date.parse('2026-11-29T05:00:00Z') / 1000,
      })),
    };
  }

  /** ListResourceComplianceSummaries: documented for many resources; filters as ComplianceStringFilter. */
  private listResourceComplianceSummaries(call: Call, input: Record<string, unknown>): unknown {
    const max = Number(input.MaxResults ?? 50);
    if (!(max >= 1 && max <= 50)) throw new AwsFault('ValidationException', 'MaxResults must be 1-50');
    const filters = checkComplianceFilters(input.Filters);
    const type = filters.get('ComplianceType');
    const resourceType = filters.get('ResourceType');
    const withAssociations = this.instances(call).filter(
      (i) =>
        i.ssm !== undefined &&
        (i.association === 'Success' || i.association === 'Failed' || i.otherAssociationFailed === true),
    );
    const items =
      type !== undefined && type !== 'Association'
        ? []
        : resourceType !== undefined && resourceType !== 'ManagedInstance'
          ? []
          : withAssociations;
    const { page, next } = paged(items, input.NextToken, max);
    return {
      ResourceComplianceSummaryItems: page.map((i) => {
        const failed = (i.association === 'Failed' ? 1 : 0) + (i.otherAssociationFailed === true ? 1 : 0);
        const ok = (i.association === 'Success' ? 1 : 0) + (i.otherAssociationFailed === false ? 1 : 0);
        return {
          ComplianceType: 'Association',
          ResourceType: 'ManagedInstance',
          ResourceId: i.id,
          Status: failed > 0 ? 'NON_COMPLIANT' : 'COMPLIANT',
          OverallSeverity: 'UNSPECIFIED',
          ExecutionSummary: {
            ExecutionTime: Date.parse('2026-11-29T05:00:00Z') / 1000,
            ExecutionType: 'Command',
          },
          CompliantSummary: { CompliantCount: ok, SeveritySummary: { UnspecifiedCount: ok } },
          NonCompliantSummary: { NonCompliantCount: failed, SeveritySummary: { UnspecifiedCount: failed } },
        };
      }),
      ...(next !== undefined ? { NextToken: next } : {}),
    };
  }

  private describeInstanceAssociationsStatus(call: Call, input: Record<string, unknown>): unknown {
    const id = text(input.InstanceId);
    if (!/^(i-(\w{8}|\w{17}))$|^(mi-\w{17})$/.test(id))
      throw new AwsFault('InvalidInstanceId', `Instance ID ${id} is not valid`);
    const instance = this.instances(call).find((i) => i.id === id);
    if (instance === undefined || instance.ssm === undefined)
      throw new AwsFault('InvalidInstanceId', `Instance ${id} is not a managed node`);
    const association = this.member(call).region(call.region)?.association;
    const infos: unknown[] = [];
    if (association && instance.association !== undefined) {
      infos.push({
        AssociationId: association.id,
        AssociationName: association.name,
        Name: 'CrowdStrike-FalconSensorDeploy',
        InstanceId: id,
        Status: instance.association,
        DetailedStatus: instance.association,
        ExecutionDate: Date.parse('2026-11-29T05:00:00Z') / 1000,
        ...(instance.association === 'Failed'
          ? { ErrorCode: 'Failed', ExecutionSummary: '1 out of 1 plugin processed, 0 success, 1 failed' }
          : {}),
      });
    }
    if (instance.otherAssociationFailed !== undefined) {
      infos.push({
        AssociationId: '11111111-2222-3333-4444-555555555555',
        AssociationName: 'patching',
        Name: 'AWS-RunPatchBaseline',
        InstanceId: id,
        Status: instance.otherAssociationFailed ? 'Failed' : 'Success',
      });
    }
    return { InstanceAssociationStatusInfos: infos };
  }

  /** ListComplianceItems as documented: "Currently, you can only specify one resource ID." */
  private listComplianceItems(call: Call, input: Record<string, unknown>): unknown {
    const ids = input.ResourceIds;
    const every = ids === undefined && this.options.listComplianceItemsOfEveryResource === true;
    if (!every && (!Array.isArray(ids) || ids.length !== 1)) {
      throw new AwsFault('ValidationException', 'ResourceIds: exactly one resource ID is supported');
    }
    const association = this.member(call).region(call.region)?.association;
    const instances = this.instances(call).filter(
      (i) =>
        (every || i.id === String((ids as unknown[])[0])) &&
        (i.association === 'Success' || i.association === 'Failed'),
    );
    const items =
      association === undefined
        ? []
        : instances.map((i) => ({
            ComplianceType: 'Association',
            ResourceType: 'ManagedInstance',
            ResourceId: i.id,
            Id: association.id,
            Status: i.association === 'Success' ? 'COMPLIANT' : 'NON_COMPLIANT',
            Severity: 'UNSPECIFIED',
          }));
    const { page, next } = paged(items, input.NextToken, Number(input.MaxResults ?? 50));
    return { ComplianceItems: page, ...(next !== undefined ? { NextToken: next } : {}) };
  }

  private scan(input: Record<string, unknown>): unknown {
    const table = text(input.TableName);
    this.scannedTables.push(table);
    if (this.model.runsTableName !== undefined && table !== this.model.runsTableName)
      throw new AwsFault('ResourceNotFoundException', 'Requested resource not found');
    const items = this.model.runsTable();
    const start =
      input.ExclusiveStartKey === undefined
        ? 0
        : Number((input.ExclusiveStartKey as { pk?: { S?: string } }).pk?.S?.split('@').pop() ?? '0');
    const page = items.slice(start, start + 1000);
    const next = start + page.length < items.length ? start + page.length : undefined;
    return {
      Items: page.map((i) => marshall(i, { removeUndefinedValues: true })),
      Count: page.length,
      ScannedCount: page.length,
      ...(next !== undefined ? { LastEvaluatedKey: { pk: { S: `cursor@${next}` } } } : {}),
    };
  }
}

/** The filters of a compliance call, checked against ComplianceStringFilter (Key, Values, Type). */
function checkComplianceFilters(raw: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === undefined) return out;
  if (!Array.isArray(raw)) throw new AwsFault('ValidationException', 'Filters must be a list');
  for (const f of raw as { Key?: unknown; Values?: unknown; Type?: unknown }[]) {
    if (typeof f.Key !== 'string' || !Array.isArray(f.Values) || f.Values.length === 0) {
      throw new AwsFault('ValidationException', 'each filter needs Key and Values');
    }
    if (
      f.Type !== undefined &&
      !['EQUAL', 'NOT_EQUAL', 'BEGIN_WITH', 'LESS_THAN', 'GREATER_THAN'].includes(text(f.Type))
    ) {
      throw new AwsFault('ValidationException', `filter Type ${text(f.Type)} is not valid`);
    }
    out.set(f.Key, String(f.Values[0]));
  }
  return out;
}

function paged<T>(items: readonly T[], token: unknown, size: number): { page: readonly T[]; next?: string } {
  const start = typeof token === 'string' && token !== '' ? Number(token.replace(/^t/, '')) : 0;
  const page = items.slice(start, start + size);
  return start + size < items.length ? { page, next: `t${start + size}` } : { page };
}

function json(value: unknown, type = 'application/x-amz-json-1.1'): Answer {
  return { status: 200, type, body: JSON.stringify(value) };
}

function xml(body: string): Answer {
  return { status: 200, type: 'text/xml', body };
}

function faultAnswer(error: unknown, protocol: 'json' | 'query' | 'ec2' | 'rest'): Answer {
  const fault = error instanceof AwsFault ? error : new AwsFault('InternalFailure', String(error), 500);
  if (protocol === 'query') {
    return {
      status: fault.status,
      type: 'text/xml',
      body: `<ErrorResponse><Error><Type>Sender</Type><Code>${fault.code}</Code><Message>${esc(fault.message)}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
    };
  }
  if (protocol === 'ec2') {
    return {
      status: fault.status,
      type: 'text/xml',
      body: `<Response><Errors><Error><Code>${fault.code}</Code><Message>${esc(fault.message)}</Message></Error></Errors><RequestID>fake</RequestID></Response>`,
    };
  }
  return {
    status: fault.status,
    type: 'application/x-amz-json-1.1',
    headers: { 'x-amzn-errortype': fault.code },
    body: JSON.stringify({ __type: fault.code, message: fault.message }),
  };
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A string field of a request, or '' when it is absent or not a string. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
