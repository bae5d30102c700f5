import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { decodeEksToken } from '../../../src/cluster/token.js';
import {
  deepEqual,
  deleteAt,
  fieldsV1,
  getAt,
  leafPaths,
  pathKey,
  setAt,
  type FieldPath,
  type Json,
} from './fields.js';
import { BUILT_IN_KINDS, parseApiPath, type ApiPath } from './paths.js';
import { simulateOperator, type OperatorSimulation } from './operator-sim.js';

/*
 * A Kubernetes API server stand-in at the HTTP level: a real HTTPS server on loopback with its own
 * CA, bearer-token checks (EKS token shape, signing date, access propagation), an object store,
 * server-side apply with field managers and conflicts, CRDs that become Established and
 * Deployments that become Available after a delay, and a tiny Falcon operator that turns custom
 * resources into workloads. Status is computed lazily from a clock shared with the test.
 */

/**
 * A self-signed serving certificate for 127.0.0.1 and localhost, made when the module loads with the
 * `openssl` CLI (as test/services/token-server.ts does): valid from now for two days, so the stand-in
 * works on any calendar date (a committed certificate has a fixed validity window).
 */
function createServingCertificate(): { certPem: string; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kube-stand-in-tls-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-sha256',
        '-days',
        '2',
        '-subj',
        '/CN=kube-stand-in',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: 'pipe' },
    );
    return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TLS = createServingCertificate();
export const STAND_IN_CA_PEM = TLS.certPem;
const KEY_PEM = TLS.keyPem;

export type Obj = { [key: string]: Json };

export interface StoredObject {
  object: Obj;
  /** Leaf field paths each manager owns. */
  managers: Map<string, FieldPath[]>;
  /** Virtual time of creation and of the last change. */
  createdAt: number;
  changedAt: number;
  deletingSince?: number;
  /** A Deployment that was Available when its spec changed keeps its old pods serving meanwhile. */
  availableBeforeChange?: boolean;
  /** The current revision's pods never get ready (set by `brokenRollouts`). */
  neverReady?: boolean;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  /** The answer's status; 0 when the connection was dropped (an injected reset). */
  readonly status: number;
  readonly at: number;
  /** Applied or deleted object "Kind name" when the request changed state. */
  readonly wrote?: string;
}

export interface KubeStandInOptions {
  readonly now: () => number;
  /** Access key ID tokens must be signed with. */
  readonly accessKeyId: string;
  /** Cluster name the deployer should target (checked against the token's signed headers). */
  readonly tokenLifetimeMs?: number;
  /**
   * From this virtual time the principal has cluster-admin access (AmazonEKSClusterAdminPolicy);
   * before it (and before `readAccessGrantedAt`) valid tokens are answered 403 (access entry still
   * propagating).
   */
  accessGrantedAt?: number;
  /**
   * From this virtual time the principal may read (AmazonEKSViewPolicy): get, list and watch of
   * everything but Secrets; writes are answered 403.
   */
  readAccessGrantedAt?: number;
  /** Delay before a CRD reports Established, or "never". @default 2000 */
  crdEstablishedAfterMs?: number | 'never';
  /** Delay before a Deployment reports Available, or "never". @default 5000 */
  deploymentAvailableAfterMs?: number | 'never';
  /** Deployments changed from now on never get their new pods ready (a crash-looping image). */
  brokenRollouts?: boolean;
  readonly operator?: Partial<OperatorSimulation>;
  /**
   * Faults to inject before a request is handled: an answer (429, 503, …, with headers such as
   * Retry-After) or "reset" (the connection is dropped without an answer). Undefined: handled.
   */
  faults?: (request: { readonly method: string; readonly path: string }) => KubeFault | undefined;
}

export type KubeFault = { readonly status: number; readonly headers?: Record<string, string> } | 'reset';

export class KubeStandIn {
  readonly store = new Map<string, StoredObject>();
  readonly requests: RecordedRequest[] = [];
  /** Every token the server saw (to check renewal). */
  readonly tokensSeen = new Set<string>();
  private resourceVersion = 100;
  readonly operatorSim: OperatorSimulation;

  private constructor(
    private readonly server: Server,
    readonly options: KubeStandInOptions,
  ) {
    this.operatorSim = {
      nodes: 3,
      readyNodes: 3,
      cleanupAfterMs: 3000,
      crFailure: undefined,
      ...options.operator,
    };
  }

  static async start(options: KubeStandInOptions): Promise<KubeStandIn> {
    const holder: { instance?: KubeStandIn } = {};
    const server = createServer({ cert: STAND_IN_CA_PEM, key: KEY_PEM }, (req, res) => {
      holder.instance?.handle(req, res).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const instance = new KubeStandIn(server, options);
    for (const ns of ['default', 'kube-system']) {
      instance.putInternal(`/api/v1/namespaces/${ns}`, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns },
      });
    }
    holder.instance = instance;
    return instance;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  now(): number {
    return this.options.now();
  }

  /** Objects (with computed status) whose key starts with the prefix. */
  objects(prefix = ''): Obj[] {
    this.reconcile();
    return [...this.store.entries()].filter(([k]) => k.startsWith(prefix)).map(([k]) => this.withStatus(k));
  }

  object(key: string): Obj | undefined {
    this.reconcile();
    return this.store.has(key) ? this.withStatus(key) : undefined;
  }

  /** Requests that changed state (applies that created or changed an object, deletes). */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.wrote !== undefined);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'https://stand-in');
    const query = Object.fromEntries(url.searchParams.entries());
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    const record = (status: number, wrote?: string) =>
      this.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query,
        contentType,
        status,
        at: this.now(),
        ...(wrote !== undefined ? { wrote } : {}),
      });
    const answer = (status: number, payload: unknown, wrote?: string) => {
      record(status, wrote);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };

    const fault = this.options.faults?.({ method: req.method ?? '', path: url.pathname });
    if (fault === 'reset') {
      record(0);
      req.socket.destroy();
      return;
    }
    if (fault) {
      record(fault.status);
      res
        .writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
        .end(JSON.stringify(statusBody(fault.status, 'Injected', 'injected fault')));
      return;
    }

    const auth = this.authenticate(req.headers.authorization);
    if (auth === 401 || auth === 403) {
      answer(
        auth,
        statusBody(
          auth,
          auth === 401 ? 'Unauthorized' : 'Forbidden',
          auth === 401 ? 'Unauthorized' : 'forbidden: User "arn:aws:sts::…" cannot list resource',
        ),
      );
      return;
    }
    if (req.method === 'POST' && url.pathname === SELF_SUBJECT_ACCESS_REVIEWS) {
      // Any authenticated user may ask what it may do (system:basic-user); the answer is the access
      // this principal has now.
      const review = parseYaml(body) as Obj;
      const attributes = ((review['spec'] as Obj | undefined)?.['resourceAttributes'] ?? {}) as {
        verb?: string;
        resource?: string;
      };
      const allowed = permits(auth, attributes.verb ?? '', attributes.resource ?? '');
      return answer(201, {
        ...review,
        status: { allowed, ...(allowed ? {} : { reason: `access level ${auth}` }) },
      });
    }
    const parsed = parseApiPath(url.pathname);
    const verb =
      req.method === 'GET'
        ? parsed?.name === undefined
          ? 'list'
          : 'get'
        : req.method === 'DELETE'
          ? 'delete'
          : 'patch';
    if (!permits(auth, verb, parsed?.plural ?? '')) {
      return answer(
        403,
        statusBody(
          403,
          'Forbidden',
          `${parsed?.plural ?? url.pathname} is forbidden: User "falcon-org-eks-deployer" cannot ${verb} resource "${parsed?.plural ?? ''}"`,
        ),
      );
    }
    this.reconcile();
    const path = parseApiPath(url.pathname);
    if (!path) return answer(404, statusBody(404, 'NotFound', `no route ${url.pathname}`));
    const kind = this.kindOf(path);
    if (!kind)
      return answer(
        404,
        statusBody(404, 'NotFound', `the server could not find the requested resource (${path.plural})`),
      );
    if (
      kind.namespaced &&
      path.namespace !== undefined &&
      !this.store.has(`/api/v1/namespaces/${path.namespace}`)
    ) {
      return answer(404, statusBody(404, 'NotFound', `namespaces "${path.namespace}" not found`));
    }

    switch (req.method) {
      case 'GET': {
        if (path.name === undefined) {
          // Direct children only (a namespace's own objects live under its path too), in key order,
          // paged like the API server: `limit`, and an opaque `continue` token while more are left.
          const keys = [...this.store.keys()]
            .filter((k) => k.startsWith(`${path.key}/`) && !k.slice(path.key.length + 1).includes('/'))
            .sort();
          const from =
            query['continue'] !== undefined ? Number(Buffer.from(query['continue'], 'base64url')) : 0;
          const limit = query['limit'] !== undefined ? Number(query['limit']) : keys.length;
          const page = keys.slice(from, from + limit);
          const next = from + page.length < keys.length ? from + page.length : undefined;
          return answer(200, {
            kind: `${kind.kind}List`,
            apiVersion: 'v1',
            metadata: next !== undefined ? { continue: Buffer.from(String(next)).toString('base64url') } : {},
            items: page.map((k) => this.withStatus(k)),
          });
        }
        if (!this.store.has(path.key))
          return answer(404, statusBody(404, 'NotFound', `${path.plural} "${path.name}" not found`));
        return answer(200, this.withStatus(path.key));
      }
      case 'PATCH': {
        const result = this.apply(path, kind.kind, contentType, query, body);
        return answer(result.status, result.body, result.wrote);
      }
      case 'DELETE': {
        const stored = this.store.get(path.key);
        if (!stored || path.name === undefined)
          return answer(404, statusBody(404, 'NotFound', `${path.plural} "${path.name ?? ''}" not found`));
        if (path.group === 'falcon.crowdstrike.com') {
          // The operator's finalizer keeps the resource until the operator has cleaned up.
          stored.deletingSince ??= this.now();
          return answer(202, this.withStatus(path.key), `delete ${kind.kind} ${path.name}`);
        }
        this.remove(path.key);
        return answer(200, statusBody(200, 'Success', 'deleted'), `delete ${kind.kind} ${path.name}`);
      }
      default:
        return answer(405, statusBody(405, 'MethodNotAllowed', `${req.method ?? ''} not supported`));
    }
  }

  private authenticate(header: string | undefined): AccessLevel | 401 | 403 {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const url = token ? decodeEksToken(token) : undefined;
    if (!token || !url) return 401;
    const q = url.searchParams;
    const signed = q.get('X-Amz-SignedHeaders')?.split(';') ?? [];
    const date = q.get('X-Amz-Date') ?? '';
    const issued = Date.parse(
      date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const lifetime = this.options.tokenLifetimeMs ?? 15 * 60_000;
    if (
      url.pathname !== '/' ||
      q.get('Action') !== 'GetCallerIdentity' ||
      !signed.includes('x-k8s-aws-id') ||
      !(q.get('X-Amz-Credential') ?? '').startsWith(`${this.options.accessKeyId}/`) ||
      !(q.get('X-Amz-Signature') ?? '').match(/^[0-9a-f]{64}$/) ||
      Number.isNaN(issued) ||
      this.now() > issued + lifetime ||
      token.length > 4096
    ) {
      return 401;
    }
    this.tokensSeen.add(token);
    const reached = (at: number | undefined) => at !== undefined && this.now() >= at;
    if (reached(this.options.accessGrantedAt)) return 'admin';
    if (reached(this.options.readAccessGrantedAt)) return 'view';
    return 403;
  }

  private kindOf(path: ApiPath): { kind: string; namespaced: boolean } | undefined {
    const builtIn = BUILT_IN_KINDS[`${path.group}/${path.version}/${path.plural}`];
    if (builtIn) return builtIn;
    for (const [key, stored] of this.store) {
      if (!key.includes('/customresourcedefinitions/') || stored.deletingSince !== undefined) continue;
      const spec = stored.object['spec'] as Obj;
      const names = spec['names'] as Obj;
      const versions = (spec['versions'] as Obj[]).map((v) => v['name']);
      if (
        spec['group'] === path.group &&
        names['plural'] === path.plural &&
        versions.includes(path.version)
      ) {
        return this.crdEstablished(stored)
          ? { kind: names['kind'] as string, namespaced: spec['scope'] === 'Namespaced' }
          : undefined;
      }
    }
    return undefined;
  }

  crdEstablished(stored: StoredObject): boolean {
    const delay = this.options.crdEstablishedAfterMs ?? 2000;
    return delay !== 'never' && this.now() >= stored.createdAt + delay;
  }

  deploymentAvailable(stored: StoredObject): boolean {
    if (stored.neverReady === true) return false;
    if (
      stored.object['metadata'] &&
      (stored.object['metadata'] as Obj)['labels'] &&
      ((stored.object['metadata'] as Obj)['labels'] as Obj)['stand-in/managed-by-operator'] === 'true'
    )
      return true;
    const delay = this.options.deploymentAvailableAfterMs ?? 5000;
    return delay !== 'never' && this.now() >= stored.changedAt + delay;
  }

  private apply(
    path: ApiPath,
    kind: string,
    contentType: string | undefined,
    query: Readonly<Record<string, string>>,
    body: string,
  ): { status: number; body: unknown; wrote?: string } {
    if (contentType !== 'application/apply-patch+yaml') {
      return {
        status: 415,
        body: statusBody(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml (got ${contentType ?? 'none'})`,
        ),
      };
    }
    const manager = query['fieldManager'];
    if (!manager) {
      return {
        status: 422,
        body: statusBody(
          422,
          'Invalid',
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        ),
      };
    }
    if (path.name === undefined)
      return { status: 405, body: statusBody(405, 'MethodNotAllowed', 'apply needs a name') };
    let applied: Obj;
    try {
      applied = parseYaml(body) as Obj;
    } catch (error) {
      return { status: 400, body: statusBody(400, 'BadRequest', `cannot parse body: ${String(error)}`) };
    }
    const meta = (applied['metadata'] ?? {}) as Obj;
    // Like the API server: apiVersion, kind and metadata.name are required and must match the URL.
    const apiVersion = path.group === '' ? path.version : `${path.group}/${path.version}`;
    if (
      applied['apiVersion'] !== apiVersion ||
      applied['kind'] !== kind ||
      meta['name'] !== path.name ||
      (path.namespace !== undefined &&
        meta['namespace'] !== undefined &&
        meta['namespace'] !== path.namespace)
    ) {
      return {
        status: 400,
        body: statusBody(
          400,
          'BadRequest',
          `the body (${JSON.stringify(applied['apiVersion'])} ${JSON.stringify(applied['kind'])} ${JSON.stringify(meta['name'])}) does not match the URL`,
        ),
      };
    }
    const force = query['force'] === 'true';
    const paths = leafPaths(applied);
    const existing = this.store.get(path.key);
    const now = this.now();
    if (!existing) {
      const object = structuredClone(applied);
      const m = object['metadata'] as Obj;
      if (path.namespace !== undefined) m['namespace'] = path.namespace;
      Object.assign(m, {
        uid: randomUUID(),
        resourceVersion: String(++this.resourceVersion),
        generation: 1,
        creationTimestamp: new Date(now).toISOString(),
      });
      const stored: StoredObject = {
        object,
        managers: new Map([[manager, paths]]),
        createdAt: now,
        changedAt: now,
      };
      this.store.set(path.key, stored);
      return { status: 201, body: this.withStatus(path.key), wrote: `apply ${kind} ${path.name}` };
    }
    // Conflicts: fields another manager owns with a different value.
    const conflicts: { manager: string; field: string }[] = [];
    for (const [other, owned] of existing.managers) {
      if (other === manager) continue;
      const ownedKeys = new Set(owned.map(pathKey));
      for (const p of paths) {
        if (ownedKeys.has(pathKey(p)) && !deepEqual(getAt(existing.object, p), getAt(applied, p))) {
          conflicts.push({ manager: other, field: `.${p.join('.')}` });
        }
      }
    }
    if (conflicts.length > 0 && !force) {
      return {
        status: 409,
        body: {
          ...statusBody(
            409,
            'Conflict',
            `Apply failed with ${conflicts.length} conflict(s): ${conflicts.map((c) => `conflict with "${c.manager}": ${c.field}`).join(', ')}`,
          ),
          details: {
            causes: conflicts.map((c) => ({
              reason: 'FieldManagerConflict',
              message: `conflict with "${c.manager}"`,
              field: c.field,
            })),
          },
        },
      };
    }
    const before = structuredClone(existing.object);
    const next = structuredClone(existing.object);
    const appliedKeys = new Set(paths.map(pathKey));
    // Fields this manager applied before and no longer applies are removed (unless another owns them).
    const previous = existing.managers.get(manager) ?? [];
    const otherOwned = new Set(
      [...existing.managers].filter(([m]) => m !== manager).flatMap(([, ps]) => ps.map(pathKey)),
    );
    for (const p of previous) {
      if (!appliedKeys.has(pathKey(p)) && !otherOwned.has(pathKey(p))) deleteAt(next, p);
    }
    for (const p of paths) setAt(next, p, getAt(applied, p) ?? null);
    // Ownership moves to this manager for every applied field (force took conflicts over).
    for (const [other, owned] of existing.managers) {
      if (other !== manager)
        existing.managers.set(
          other,
          owned.filter((p) => !appliedKeys.has(pathKey(p))),
        );
    }
    existing.managers.set(manager, paths);
    const changed = !deepEqual(strip(before), strip(next));
    if (changed) {
      const m = next['metadata'] as Obj;
      m['resourceVersion'] = String(++this.resourceVersion);
      if (!deepEqual(before['spec'], next['spec'])) m['generation'] = Number(m['generation'] ?? 1) + 1;
      if (kind === 'Deployment') {
        existing.availableBeforeChange = this.deploymentAvailable(existing);
        existing.neverReady = this.options.brokenRollouts === true;
      }
      existing.object = next;
      existing.changedAt = now;
    }
    return {
      status: 200,
      body: this.withStatus(path.key),
      ...(changed ? { wrote: `apply ${kind} ${path.name}` } : {}),
    };
  }

  remove(key: string): void {
    this.store.delete(key);
    const parts = key.split('/');
    if (key.startsWith('/api/v1/namespaces/') && parts.length === 5) {
      const ns = parts[4];
      for (const k of [...this.store.keys()]) if (k.includes(`/namespaces/${ns}/`)) this.store.delete(k);
    }
  }

  /** The stored object with managedFields and the computed status. */
  private withStatus(key: string): Obj {
    const stored = this.store.get(key);
    if (!stored) return {};
    const object = structuredClone(stored.object);
    const meta = object['metadata'] as Obj;
    meta['managedFields'] = [...stored.managers]
      .filter(([, paths]) => paths.length > 0)
      .map(([manager, paths]) => ({
        manager,
        operation: 'Apply',
        apiVersion: object['apiVersion'] as string,
        fieldsType: 'FieldsV1',
        fieldsV1: fieldsV1(paths),
      }));
    if (stored.deletingSince !== undefined)
      meta['deletionTimestamp'] = new Date(stored.deletingSince).toISOString();
    const condition = (type: string, ok: boolean, reason: string): Obj => ({
      type,
      status: ok ? 'True' : 'False',
      reason,
    });
    if (object['kind'] === 'CustomResourceDefinition') {
      const ok = this.crdEstablished(stored);
      object['status'] = {
        conditions: [
          condition('NamesAccepted', true, 'NoConflicts'),
          condition('Established', ok, ok ? 'InitialNamesAccepted' : 'Installing'),
        ],
      };
    } else if (object['kind'] === 'Deployment') {
      // Like the deployment controller: the new revision's pods are created at once (surge) and
      // count as updated; during a rolling update the old pods keep serving (Available=True,
      // counted in replicas and availableReplicas) until the new ones are ready.
      const rolledOut = this.deploymentAvailable(stored);
      const rolling = !rolledOut && stored.availableBeforeChange === true;
      const ok = rolledOut || rolling;
      const replicas = Number((object['spec'] as Obj | undefined)?.['replicas'] ?? 1);
      object['status'] = {
        ...(meta['generation'] !== undefined ? { observedGeneration: meta['generation'] } : {}),
        replicas: rolling ? 2 * replicas : replicas,
        updatedReplicas: replicas,
        availableReplicas: ok ? replicas : 0,
        ...(rolledOut ? {} : { unavailableReplicas: replicas }),
        conditions: [
          condition('Available', ok, ok ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable'),
        ],
      };
    } else if (stored.object['status'] !== undefined) {
      object['status'] = structuredClone(stored.object['status']);
    }
    return object;
  }

  /** Lets the simulated operator act on the current state. */
  reconcile(): void {
    simulateOperator(this);
  }

  putInternal(key: string, object: Obj): void {
    const existing = this.store.get(key);
    const now = this.now();
    if (existing) {
      existing.object = object;
      return;
    }
    (object['metadata'] as Obj)['uid'] = randomUUID();
    this.store.set(key, { object, managers: new Map(), createdAt: now, changedAt: now });
  }
}

function strip(object: Obj): Obj {
  const copy = structuredClone(object);
  const meta = copy['metadata'] as Obj | undefined;
  if (meta) {
    delete meta['resourceVersion'];
    delete meta['generation'];
    delete meta['managedFields'];
  }
  return copy;
}

const SELF_SUBJECT_ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

/** What the principal may do: cluster-admin, or EKS's view policy (reads, not Secrets). */
export type AccessLevel = 'admin' | 'view';

function permits(level: AccessLevel, verb: string, resource: string): boolean {
  if (level === 'admin') return true;
  return ['get', 'list', 'watch'].includes(verb) && resource !== 'secrets';
}

export function statusBody(code: number, reason: string, message: string): Obj {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: code < 300 ? 'Success' : 'Failure',
    reason,
    message,
    code,
  };
}
