import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/cluster/kube-client.js';
import { KubeApiError } from '../../src/cluster/errors.js';
import { TokenSource } from '../../src/cluster/token.js';
import { KubeStandIn, STAND_IN_CA_PEM } from '../fakes/kube/server.js';
import { ACCESS_KEY_ID, VirtualClock } from './harness.js';

/** The stand-in answers server-side apply like the API server; these pin that behaviour down. */
describe('Kubernetes API stand-in', () => {
  const clock = new VirtualClock();
  let standIn: KubeStandIn;
  let kube: KubeClient;
  const cm = (data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'default' },
    data,
  });
  const path = '/api/v1/namespaces/default/configmaps/settings';

  beforeEach(async () => {
    standIn = await KubeStandIn.start({ now: clock.now, accessKeyId: ACCESS_KEY_ID, accessGrantedAt: 0 });
    kube = new KubeClient({
      server: standIn.url,
      caPem: STAND_IN_CA_PEM,
      token: new TokenSource({
        cluster: 'c',
        region: 'us-east-1',
        credentials: () => Promise.resolve({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: 's' }),
        now: clock.now,
      }),
    });
  });
  afterEach(async () => {
    await standIn.close();
  });

  it('answers access reviews from the access it models: view reads (not Secrets), admin does all', async () => {
    const may = async (verb: string, resource: string) => {
      const response = await kube.raw({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        contentType: 'application/json',
        body: JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb, group: '', resource } },
        }),
      });
      expect(response.status).toBe(201);
      return (response.body as { status: { allowed: boolean } }).status.allowed;
    };
    expect(await may('patch', 'configmaps')).toBe(true);
    standIn.options.accessGrantedAt = undefined;
    standIn.options.readAccessGrantedAt = 0;
    expect([await may('get', 'configmaps'), await may('list', 'namespaces')]).toEqual([true, true]);
    expect([
      await may('patch', 'configmaps'),
      await may('create', 'namespaces'),
      await may('get', 'secrets'),
    ]).toEqual([false, false, false]);
    // And what it answers is what it enforces.
    await expect(kube.apply(path, cm({ a: '1' }), 'one')).rejects.toThrow(/HTTP 403/);
    expect(await kube.get('/api/v1/namespaces/default')).toBeDefined();
    standIn.options.readAccessGrantedAt = undefined;
    await expect(kube.get('/api/v1/namespaces/default')).rejects.toThrow(/HTTP 403/);
  });

  it('creates (201), updates (200) and records managedFields per manager', async () => {
    const created = await kube.apply(path, cm({ a: '1' }), 'one');
    expect(standIn.requests.at(-1)?.status).toBe(201);
    expect(created.metadata['managedFields']).toEqual([
      {
        manager: 'one',
        operation: 'Apply',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {} } },
      },
    ]);
    const updated = await kube.apply(path, cm({ a: '2' }), 'one');
    expect(standIn.requests.at(-1)?.status).toBe(200);
    expect(updated['data']).toEqual({ a: '2' });
    expect(Number(updated.metadata['resourceVersion'])).toBeGreaterThan(
      Number(created.metadata['resourceVersion']),
    );
  });

  it('an identical apply changes nothing (same resourceVersion, no write)', async () => {
    const first = await kube.apply(path, cm({ a: '1' }), 'one');
    const second = await kube.apply(path, cm({ a: '1' }), 'one');
    expect(second.metadata['resourceVersion']).toBe(first.metadata['resourceVersion']);
    expect(standIn.writes()).toHaveLength(1);
  });

  it('answers 409 for a non-forced conflict with another manager and lets force take the field over', async () => {
    await kube.apply(path, cm({ a: '1' }), 'someone-else');
    const conflict = await kube.raw({
      method: 'PATCH',
      path: `${path}?fieldManager=falcon-org`,
      contentType: 'application/apply-patch+yaml',
      body: JSON.stringify(cm({ a: '2' })),
    });
    expect(conflict.status).toBe(409);
    expect(JSON.stringify(conflict.body)).toContain('conflict with \\"someone-else\\": .data.a');
    const forced = await kube.apply(path, cm({ a: '2' }), 'falcon-org');
    expect(forced['data']).toEqual({ a: '2' });
    expect((forced.metadata['managedFields'] as { manager: string }[]).map((m) => m.manager)).toEqual([
      'falcon-org',
    ]);
  });

  it('drops fields a manager stops applying and keeps fields of others', async () => {
    await kube.apply(path, cm({ mine: '1', old: 'x' }), 'one');
    await kube.raw({
      method: 'PATCH',
      path: `${path}?fieldManager=two`,
      contentType: 'application/apply-patch+yaml',
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  theirs: "2"\n',
    });
    const after = await kube.apply(path, cm({ mine: '1' }), 'one');
    expect(after['data']).toEqual({ mine: '1', theirs: '2' });
  });

  it('rejects an apply whose body lacks or mismatches apiVersion, kind or metadata.name (400)', async () => {
    const send = (body: unknown) =>
      kube.raw({
        method: 'PATCH',
        path: `${path}?fieldManager=x`,
        contentType: 'application/apply-patch+yaml',
        body: JSON.stringify(body),
      });
    const noApiVersion: Partial<ReturnType<typeof cm>> = cm({});
    delete noApiVersion.apiVersion;
    expect((await send(noApiVersion)).status).toBe(400);
    expect((await send({ ...cm({}), apiVersion: 'apps/v1' })).status).toBe(400);
    expect((await send({ ...cm({}), metadata: { namespace: 'default' } })).status).toBe(400);
    expect((await send({ ...cm({}), kind: 'Secret' })).status).toBe(400);
    expect((await send(cm({}))).status).toBe(201);
  });

  it('rejects a merge-patch content type (415) and a missing field manager (422)', async () => {
    const wrongType = await kube.raw({
      method: 'PATCH',
      path: `${path}?fieldManager=x`,
      contentType: 'application/merge-patch+json',
      body: JSON.stringify(cm({})),
    });
    expect(wrongType.status).toBe(415);
    const noManager = await kube.raw({
      method: 'PATCH',
      path,
      contentType: 'application/apply-patch+yaml',
      body: JSON.stringify(cm({})),
    });
    expect(noManager.status).toBe(422);
  });

  it('serves custom resources only once their CRD is Established, and namespaced objects only in existing namespaces', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Cluster',
        names: { kind: 'Widget', plural: 'widgets' },
        versions: [{ name: 'v1' }],
      },
    };
    await kube.apply('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com', crd, 'x');
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
    await expect(kube.apply('/apis/example.com/v1/widgets/w', widget, 'x')).rejects.toBeInstanceOf(
      KubeApiError,
    );
    await clock.sleep(2000);
    await expect(kube.apply('/apis/example.com/v1/widgets/w', widget, 'x')).resolves.toMatchObject({
      kind: 'Widget',
    });
    await expect(
      kube.apply(
        '/api/v1/namespaces/missing/configmaps/c',
        { ...cm({}), metadata: { name: 'c', namespace: 'missing' } },
        'x',
      ),
    ).rejects.toThrow(/namespaces "missing" not found/);
  });

  it('rejects requests without a valid EKS token and trusts only its own CA', async () => {
    const anonymous = new KubeClient({
      server: standIn.url,
      caPem: STAND_IN_CA_PEM,
      token: { get: () => Promise.resolve('k8s-aws-v1.bm90LWEtdXJs'), renew: () => Promise.resolve('nope') },
    });
    await expect(anonymous.get(path)).rejects.toThrow(/HTTP 401/);
    const untrusting = new KubeClient({
      server: standIn.url,
      token: { get: () => Promise.resolve('x'), renew: () => Promise.resolve('x') },
    });
    await expect(untrusting.get(path)).rejects.toThrow(/self-signed|certificate/i);
  });
});
