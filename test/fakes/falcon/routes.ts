import { randomUUID } from 'node:crypto';
import { errorReply, reply, type FakeApiError, type FakeReply } from './envelope.js';
import { FakeHosts, hostsRouteOf } from './hosts.js';
import type { FakeRoute } from './quirks.js';
import {
  fakeUrlKey,
  newConnection,
  newTokenValue,
  toEntity,
  type FakeConnection,
  type FakeToken,
} from './state.js';

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly bodyText: string;
}

/** How the fake answers the registry quirks seen in the wild (set from tests). */
export interface RegistryBehaviour {
  /** Status of a successful create. @default 201 */
  createStatus: 200 | 201;
  /** Answer to a create whose URL already exists. @default '409' */
  duplicate: '409' | 'empty-200';
  /** The next N non-duplicate creates answer 400 "failed to validate registry credential". */
  credentialValidationFailures: number;
  /** With the failures above: the first failing create stores the connection anyway. */
  saveDespiteValidationFailure: boolean;
}

export const SUPPORTED_TYPES = new Set([
  'acr',
  'artifactory',
  'docker',
  'dockerhub',
  'ecr',
  'gar',
  'gcr',
  'github',
  'gitlab',
  'harbor',
  'icr',
  'mirantis',
  'nexus',
  'openshift',
  'oracle',
  'quay.io',
]);

const ROLE_ARN = /^arn:aws(-us-gov|-cn)?:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const MAX_LIMIT = 5000;

export function routeOf(method: string, path: string): FakeRoute | undefined {
  const p = path.replace(/\/+$/, '');
  if (method === 'POST' && p === '/oauth2/token') return 'token';
  if (method === 'POST' && p === '/oauth2/revoke') return 'revoke';
  if (method === 'GET' && p === '/container-security/queries/registries/v1') return 'registries.query';
  if (p === '/container-security/entities/registries/v1') {
    if (method === 'GET') return 'registries.get';
    if (method === 'POST') return 'registries.create';
    if (method === 'PATCH') return 'registries.update';
    if (method === 'DELETE') return 'registries.delete';
  }
  if (method === 'GET' && p === '/sensors/queries/installers/ccid/v1') return 'sensors.ccid';
  if (method === 'GET' && p === '/container-security/entities/image-registry-credentials/v1') {
    return 'images.credentials';
  }
  if (method === 'GET' && p === '/policy/queries/sensor-update/v1') return 'policies.sensorUpdate';
  return hostsRouteOf(method, p);
}

/**
 * The API client scope each route needs, as the Falcon console names scopes (transcribed from
 * CrowdStrike's API documentation and the falcon-operator docs, independently of src/falcon/scopes.ts).
 */
export const ROUTE_SCOPES: Readonly<Partial<Record<FakeRoute, string>>> = {
  'registries.query': 'Falcon Container Image: Read',
  'registries.get': 'Falcon Container Image: Read',
  'registries.create': 'Falcon Container Image: Write',
  'registries.update': 'Falcon Container Image: Write',
  'registries.delete': 'Falcon Container Image: Write',
  'hosts.query': 'Hosts: Read',
  'hosts.scroll': 'Hosts: Read',
  'hosts.get': 'Hosts: Read',
  'hosts.post': 'Hosts: Read',
  'sensors.ccid': 'Sensor Download: Read',
  'images.credentials': 'Falcon Images Download: Read',
  'policies.sensorUpdate': 'Sensor Update Policies: Read',
};

/** An API client of the tenant: its secret, its scopes ('all' for the default client) and whether it was revoked. */
export interface FakeApiClient {
  readonly clientId: string;
  clientSecret: string;
  readonly scopes: ReadonlySet<string> | 'all';
  revoked: boolean;
}

function header(req: FakeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The endpoint logic over the fake's state; no HTTP here. */
export class FakeFalconRoutes {
  readonly connections = new Map<string, FakeConnection>();
  readonly tokens = new Map<string, FakeToken>();
  readonly hosts = new FakeHosts();
  readonly behaviour: RegistryBehaviour = {
    createStatus: 201,
    duplicate: '409',
    credentialValidationFailures: 0,
    saveDespiteValidationFailure: false,
  };

  /** API clients by ID; the default one (the constructor's) holds every scope. */
  readonly clients = new Map<string, FakeApiClient>();
  /** What the sensor and image endpoints answer. */
  ccid = '0123456789ABCDEF0123456789ABCDEF-A1';
  pullToken = 'fake-pull-token-3f9a';

  constructor(
    client: { clientId: string; clientSecret: string },
    private readonly tokenTtlSeconds: () => number,
    private readonly region: string,
    private readonly now: () => number = Date.now,
  ) {
    this.clients.set(client.clientId, { ...client, scopes: 'all', revoked: false });
  }

  handle(route: FakeRoute, req: FakeRequest): FakeReply {
    switch (route) {
      case 'token':
        return this.token(req);
      case 'revoke':
        return this.revoke(req);
      default: {
        const denied = this.authenticate(req) ?? this.authorize(route, req);
        if (denied !== undefined) return denied;
        if (route === 'registries.query') return this.query(req);
        if (route === 'registries.get') return this.get(req);
        if (route === 'registries.create') return this.create(req);
        if (route === 'registries.update') return this.update(req);
        if (route.startsWith('hosts.')) return this.hosts.handle(route, req);
        if (route === 'sensors.ccid') return reply(200, { resources: [this.ccid] });
        if (route === 'images.credentials') return reply(200, { resources: [{ token: this.pullToken }] });
        if (route === 'policies.sensorUpdate') {
          return reply(200, { resources: [], pagination: { offset: 0, limit: 1, total: 0 } });
        }
        return this.delete(req);
      }
    }
  }

  /** The bearer token of a request if it is valid now. */
  validToken(req: FakeRequest): FakeToken | undefined {
    const auth = header(req, 'authorization') ?? '';
    const match = /^bearer\s+(.+)$/i.exec(auth);
    if (match?.[1] === undefined) return undefined;
    const token = this.tokens.get(match[1]);
    if (token === undefined || token.revoked || this.now() >= token.expiresAtMs) return undefined;
    return token;
  }

  private authenticate(req: FakeRequest): FakeReply | undefined {
    if (this.validToken(req) !== undefined) return undefined;
    return errorReply(401, 'access denied, invalid bearer token');
  }

  /** A valid token of a client without the route's scope: 403, as Falcon answers a missing scope. */
  private authorize(route: FakeRoute, req: FakeRequest): FakeReply | undefined {
    const scope = ROUTE_SCOPES[route];
    const client = this.clients.get(this.validToken(req)?.clientId ?? '');
    if (scope === undefined || client === undefined || client.scopes === 'all' || client.scopes.has(scope)) {
      return undefined;
    }
    return errorReply(403, 'access denied, authorization failed');
  }

  private token(req: FakeRequest): FakeReply {
    const type = header(req, 'content-type') ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      return errorReply(400, 'content type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(req.bodyText);
    const clientId = form.get('client_id');
    const secret = form.get('client_secret');
    if (clientId === null || secret === null)
      return errorReply(400, 'client_id and client_secret are required');
    const client = this.clients.get(clientId);
    if (client === undefined || client.revoked || secret !== client.clientSecret) {
      return errorReply(401, 'access denied, authorization failed');
    }
    const ttl = this.tokenTtlSeconds();
    const memberCid = form.get('member_cid') ?? undefined;
    const token: FakeToken = {
      token: newTokenValue(),
      clientId,
      ...(memberCid !== undefined ? { memberCid } : {}),
      issuedAtMs: this.now(),
      expiresAtMs: this.now() + ttl * 1000,
      revoked: false,
    };
    this.tokens.set(token.token, token);
    const traceId = randomUUID();
    return {
      status: 201,
      headers: {
        'content-type': 'application/json',
        'x-cs-traceid': traceId,
        'x-cs-region': this.region,
        'x-ratelimit-limit': '6000',
        'x-ratelimit-remaining': '5999',
      },
      body: { access_token: token.token, token_type: 'bearer', expires_in: ttl },
    };
  }

  private revoke(req: FakeRequest): FakeReply {
    const auth = header(req, 'authorization') ?? '';
    const match = /^basic\s+(.+)$/i.exec(auth);
    const [id, ...rest] = Buffer.from(match?.[1] ?? '', 'base64')
      .toString('utf8')
      .split(':');
    const client = this.clients.get(id ?? '');
    if (client === undefined || client.clientSecret !== rest.join(':')) {
      return errorReply(401, 'access denied, authorization failed');
    }
    const form = new URLSearchParams(req.bodyText);
    const value = form.get('token');
    if (value === null || value === '') return errorReply(400, 'token is required');
    const token = this.tokens.get(value);
    if (token !== undefined) token.revoked = true;
    return reply(200);
  }

  private sorted(): FakeConnection[] {
    return [...this.connections.values()].sort((a, b) =>
      a.created_at === b.created_at ? a.id.localeCompare(b.id) : a.created_at.localeCompare(b.created_at),
    );
  }

  private query(req: FakeRequest): FakeReply {
    const limit = req.query.has('limit') ? Number(req.query.get('limit')) : 100;
    const offset = req.query.has('offset') ? Number(req.query.get('offset')) : 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return errorReply(400, `limit must be between 1 and ${MAX_LIMIT}`);
    }
    if (!Number.isInteger(offset) || offset < 0)
      return errorReply(400, 'offset must be a non-negative integer');
    const all = this.sorted();
    const ids = all.slice(offset, offset + limit).map((c) => c.id);
    return reply(200, { resources: ids, pagination: { offset, limit, total: all.length } });
  }

  private idsOf(req: FakeRequest): string[] {
    return req.query
      .getAll('ids')
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v !== '');
  }

  private get(req: FakeRequest): FakeReply {
    const ids = this.idsOf(req);
    if (ids.length === 0) return errorReply(400, 'ids is required');
    const found: Record<string, unknown>[] = [];
    const errors: FakeApiError[] = [];
    for (const id of ids) {
      const c = this.connections.get(id);
      if (c === undefined) errors.push({ code: 404, message: `registry ${id} not found` });
      else found.push(toEntity(c));
    }
    return reply(found.length === 0 ? 404 : 200, { resources: found, errors });
  }

  private create(req: FakeRequest): FakeReply {
    const body = parseJson(req.bodyText);
    if (!isRecord(body)) return errorReply(400, 'invalid JSON body');
    const { type, url, credential } = body;
    const alias = body.user_defined_alias;
    if (typeof type !== 'string' || !SUPPORTED_TYPES.has(type))
      return errorReply(400, 'invalid registry type');
    if (typeof url !== 'string' || url === '') return errorReply(400, 'url is required');
    if (alias !== undefined && typeof alias !== 'string')
      return errorReply(400, 'user_defined_alias must be a string');
    if (!isRecord(credential) || !isRecord(credential.details))
      return errorReply(400, 'credential.details is required');
    const details = credential.details;
    if (type === 'ecr') {
      if (!/^https:\/\/\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/?$/i.test(url)) {
        return errorReply(400, 'invalid ECR registry url');
      }
      if (typeof details.aws_iam_role !== 'string' || !ROLE_ARN.test(details.aws_iam_role)) {
        return errorReply(400, 'credential.details.aws_iam_role must be an IAM role ARN');
      }
      if (typeof details.aws_external_id !== 'string' || details.aws_external_id === '') {
        return errorReply(400, 'credential.details.aws_external_id is required');
      }
      const gov = details.aws_gov_using_commercial_connection;
      if (gov !== undefined && typeof gov !== 'boolean') {
        return errorReply(400, 'credential.details.aws_gov_using_commercial_connection must be a boolean');
      }
    }
    // The fields CrowdStrike's registration Lambda sends for government clouds (not in the swagger).
    const monitored = body.all_repositories_monitored;
    if (monitored !== undefined && typeof monitored !== 'boolean') {
      return errorReply(400, 'all_repositories_monitored must be a boolean');
    }
    if (credential.type !== undefined && credential.type !== type) {
      return errorReply(400, 'credential.type must be the registry type');
    }
    const key = fakeUrlKey(url);
    const duplicate = [...this.connections.values()].find((c) => fakeUrlKey(c.url) === key);
    if (duplicate !== undefined) {
      if (this.behaviour.duplicate === 'empty-200') {
        return { status: 200, headers: { 'x-cs-traceid': randomUUID() }, body: '' };
      }
      return errorReply(409, 'registry with the same url already exists');
    }
    const input = {
      type,
      url,
      details,
      ...(typeof alias === 'string' ? { alias } : {}),
      ...(typeof monitored === 'boolean' ? { allRepositoriesMonitored: monitored } : {}),
      ...(typeof credential.type === 'string' ? { credentialType: credential.type } : {}),
    };
    if (this.behaviour.credentialValidationFailures > 0) {
      this.behaviour.credentialValidationFailures -= 1;
      if (this.behaviour.saveDespiteValidationFailure) this.store(newConnection(input, this.now()));
      return errorReply(400, 'failed to validate registry credential');
    }
    const created = this.store(newConnection(input, this.now()));
    return reply(this.behaviour.createStatus, { resources: toEntity(created) });
  }

  private update(req: FakeRequest): FakeReply {
    const id = req.query.get('id');
    const c = id === null ? undefined : this.connections.get(id);
    if (c === undefined) return errorReply(404, `registry ${id ?? ''} not found`);
    const body = parseJson(req.bodyText);
    if (!isRecord(body) || !isRecord(body.credential)) return errorReply(400, 'credential is required');
    if (typeof body.user_defined_alias === 'string') c.user_defined_alias = body.user_defined_alias;
    if (typeof body.state === 'string') c.state = body.state;
    if (isRecord(body.credential.details)) c.credentialDetails = { ...body.credential.details };
    c.updated_at = new Date(this.now()).toISOString();
    return reply(200, { resources: toEntity(c) });
  }

  private delete(req: FakeRequest): FakeReply {
    const ids = this.idsOf(req);
    if (ids.length === 0) return errorReply(400, 'ids is required');
    const deleted: Record<string, unknown>[] = [];
    const errors: FakeApiError[] = [];
    for (const id of ids) {
      const c = this.connections.get(id);
      if (c === undefined) {
        errors.push({ code: 404, message: `registry ${id} not found` });
        continue;
      }
      this.connections.delete(id);
      deleted.push(toEntity(c));
    }
    return reply(deleted.length === 0 ? 404 : 200, { resources: deleted, errors });
  }

  store(c: FakeConnection): FakeConnection {
    this.connections.set(c.id, c);
    return c;
  }
}
