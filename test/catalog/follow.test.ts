import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CatalogStoreError } from '../../src/catalog/errors.js';
import { followQueue, type FollowOptions, type FollowScope } from '../../src/catalog/events/follower.js';
import type { ListenerLog } from '../../src/catalog/events/listener.js';
import { EventOutcome, RejectReason, type RegistryEvent } from '../../src/catalog/events/model.js';
import { SqsEventQueue } from '../../src/catalog/events/sqs-queue.js';
import { scanRegistry } from '../../src/catalog/scan.js';
import { openCatalogStore, type StoreLocation } from '../../src/catalog/store/open.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EcrClients } from '../../src/registry/ecr-clients.js';
import { EcrRegistrySource } from '../../src/registry/ecr-source.js';
import { startPostgres, type PostgresService } from '../services/postgres.js';
import { runCatalog } from './cli-harness.js';
import { FakeSqsQueue } from './fake-sqs.js';
import { digest, FakeRegistry } from './fake-source.js';

const MEMBER = '111122223333';
const OTHER_MEMBER = '444455556666';
const OUTSIDER = '999999999999';
const REGION = 'eu-west-1';
const registryOf = (account: string, region = REGION): string => `ecr://${account}/${region}`;

/** The EventBridge event ECR emits for a registry event (times in whole seconds, as ECR gives them). */
function ecrMessage(
  e: RegistryEvent,
  overrides: { account?: string; region?: string; result?: string } = {},
): string {
  const [, account = MEMBER, region = REGION] = /^ecr:\/\/(\d+)\/(.+)$/.exec(e.registry) ?? [];
  return JSON.stringify({
    version: '0',
    id: e.id,
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: overrides.account ?? account,
    time: `${e.at.slice(0, 19)}Z`,
    region: overrides.region ?? region,
    resources: [],
    detail: {
      result: overrides.result ?? 'SUCCESS',
      'repository-name': e.repository,
      ...(e.digest ? { 'image-digest': e.digest } : {}),
      'action-type': e.action === 'push' ? 'PUSH' : 'DELETE',
      ...(e.tag ? { 'image-tag': e.tag } : {}),
    },
  });
}

/** An ECR delete by tag: ECR names the image's digest too, and drops the image with its last tag. */
function deleteTagEcr(registry: FakeRegistry, repository: string, tag: string): RegistryEvent {
  const target = registry.repos.get(repository)?.get(tag);
  const event = registry.removeTag(repository, tag);
  return { ...event, ...(target ? { digest: target } : {}) };
}

/** The catalog of a registry in a store as sorted lines. */
async function catalogOf(store: CatalogStore, registry: string): Promise<string[]> {
  const { state } = await store.load(registry);
  const lines: string[] = [];
  for (const [repository, repo] of state) {
    for (const image of repo.images.values())
      lines.push(`${repository} ${image.digest.slice(7, 13)} ${image.tags.join(',')}`);
  }
  return lines.sort();
}

/** A configuration file in the test folder: an organization with EKS Protection, plus `extra` lines. */
async function configFile(name: string, ...extra: string[]): Promise<string> {
  const file = join(dir, name);
  const lines = [
    'falcon: { cloud: us-1 }',
    'aws: { partition: aws, homeRegion: eu-west-1 }',
    'organization: { id: o-abcdefghij, targets: [r-ab12] }',
    'features: { eksProtection: { enabled: true } }',
  ];
  await writeFile(file, [...lines, ...extra].join('\n'));
  return file;
}

const scope: FollowScope = {
  hasAccount: (account) => Promise.resolve(account === MEMBER || account === OTHER_MEMBER),
  regions: new Set([REGION]),
};

let dir = '';
let postgres: PostgresService | undefined;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falcon-org-follow-'));
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('catalog follow: ECR image actions from the queue', () => {
  let queue: FakeSqsQueue;
  let store: CatalogStore;
  let logs: ListenerLog[];
  beforeEach(async () => {
    queue = new FakeSqsQueue(100);
    store = await openCatalogStore({ kind: 'sqlite', file: join(dir, `f${++counter}.sqlite`) });
    logs = [];
  });
  afterEach(async () => {
    queue.restore();
    await store.close();
  });

  const follow = (registries: FakeRegistry[], options: Partial<FollowOptions> = {}) =>
    followQueue({
      queue: new SqsEventQueue(new SQSClient({ region: REGION }), queue.url),
      store,
      scope,
      probeFor: (account, region) => {
        const found = registries.find((r) => r.registry === registryOf(account, region));
        if (!found) throw new Error(`no fake registry for ${account}/${region}`);
        return found;
      },
      log: (entry) => logs.push(entry),
      untilEmpty: true,
      retry: { initialMs: 10, maxMs: 50 },
      now: () => new Date(registries[0]?.clock ?? 0),
      ...options,
    });

  it('applies pushes, moves and deletes of every member registry as a scan would, and empties the queue', async () => {
    const one = new FakeRegistry(registryOf(MEMBER));
    const two = new FakeRegistry(registryOf(OTHER_MEMBER));
    queue.send(
      ecrMessage(one.push('team/app', 'v1', digest('a'))),
      ecrMessage(one.push('team/app', 'latest', digest('a'))),
      ecrMessage(one.push('team/app', 'v2', digest('b'))),
      ecrMessage(one.push('team/app', 'latest', digest('b'))),
      ecrMessage(deleteTagEcr(one, 'team/app', 'v1')), // the image goes with its last tag
      ecrMessage(two.push('web', '1.0', digest('c'))),
      ecrMessage({ ...two.push('web', 'tmp', digest('d')), tag: undefined }), // push by digest: ignored
    );
    two.untag('web', 'tmp');
    const stats = await follow([one, two]);
    expect(stats).toMatchObject({ messages: 7, handled: 6, ignored: 1, rejected: 0, retried: 0 });
    expect(queue.size).toBe(0);
    for (const registry of [one, two]) {
      const truth = await openCatalogStore({ kind: 'sqlite', file: join(dir, `truth${++counter}.sqlite`) });
      await scanRegistry(registry, truth);
      expect(await catalogOf(store, registry.registry)).toEqual(await catalogOf(truth, registry.registry));
      await truth.close();
    }
    expect(await catalogOf(store, one.registry)).toEqual([`team/app ${digest('b').slice(7, 13)} latest,v2`]);
  });

  it('refuses events from an account outside the scope, a region not configured, and messages it cannot parse', async () => {
    const member = new FakeRegistry(registryOf(MEMBER));
    const outsider = new FakeRegistry(registryOf(OUTSIDER));
    const elsewhere = new FakeRegistry(registryOf(MEMBER, 'ap-south-1'));
    queue.send(
      ecrMessage(outsider.push('evil/app', 'v1', digest('e'))),
      ecrMessage(elsewhere.push('app', 'v1', digest('f'))),
      // A member's event relabelled with an outsider's account: judged by the event's own account.
      ecrMessage(member.push('app', 'v1', digest('g')), { account: OUTSIDER }),
      'this is not an event',
      JSON.stringify({ 'detail-type': 'ECR Image Scan', source: 'aws.ecr' }),
    );
    const stats = await follow([member, outsider, elsewhere]);
    expect(stats).toMatchObject({ messages: 5, handled: 0, rejected: 5 });
    expect(queue.size).toBe(0);
    for (const r of [member, outsider, elsewhere]) expect((await store.load(r.registry)).state.size).toBe(0);
    const status = await store.status();
    expect(status.map((s) => [s.registry, s.rejections.map((r) => `${r.count} ${r.reason}`)])).toEqual([
      [registryOf(MEMBER, 'ap-south-1'), [`1 ${RejectReason.RegionOutOfScope}`]],
      [registryOf(OUTSIDER), [`2 ${RejectReason.AccountOutOfScope}`]],
      ['sqs:falcon-org-catalog-events', [`2 ${RejectReason.Malformed}`]],
    ]);
  });

  it('ignores failed actions and excluded repositories, and applies a redelivered message once', async () => {
    const member = new FakeRegistry(registryOf(MEMBER));
    const push = ecrMessage(member.push('team/app', 'v1', digest('a')));
    queue.send(
      push,
      push, // SQS delivers at least once
      ecrMessage(member.push('team/app', 'v2', digest('b')), { result: 'FAILURE' }),
      ecrMessage(member.push('scratch/tmp', 'v1', digest('c'))),
    );
    member.untag('team/app', 'v2');
    await follow([member], { apply: { exclude: ['scratch/**'] } });
    expect(await catalogOf(store, member.registry)).toEqual([`team/app ${digest('a').slice(7, 13)} v1`]);
    const [status] = await store.status();
    expect(status?.eventsSinceScan).toEqual({
      [EventOutcome.Applied]: 1,
      [EventOutcome.Duplicate]: 1,
      [EventOutcome.Excluded]: 1,
    });
  });

  it('leaves the messages on the queue while the store is down, and applies them once it is back', async () => {
    const member = new FakeRegistry(registryOf(MEMBER));
    queue.send(ecrMessage(member.push('team/app', 'v1', digest('a'))));
    let down = 2;
    const flaky: CatalogStore = Object.assign(Object.create(store) as CatalogStore, {
      commitEvents: (...args: Parameters<CatalogStore['commitEvents']>) =>
        down-- > 0
          ? Promise.reject(new CatalogStoreError('connection refused'))
          : store.commitEvents(...args),
    });
    const stats = await follow([member], {
      store: flaky,
      untilEmpty: false,
      signal: AbortSignal.timeout(3000),
    });
    expect(stats.retried).toBe(2);
    expect(queue.size).toBe(0);
    expect(await catalogOf(store, member.registry)).toEqual([`team/app ${digest('a').slice(7, 13)} v1`]);
    expect(logs.filter((l) => l.level === 'error')).toHaveLength(2);
  });

  it('reads a new image through ECR itself when the probe is the ECR source', async () => {
    const ecr = mockClient(ECRClient);
    try {
      ecr.on(DescribeImagesCommand).resolves({
        imageDetails: [
          {
            imageDigest: digest('a'),
            imageTags: ['v1'],
            imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
            imagePushedAt: new Date('2026-01-01T00:00:01Z'),
            imageSizeInBytes: 1234,
          },
        ],
      });
      const member = new FakeRegistry(registryOf(MEMBER));
      queue.send(ecrMessage(member.push('team/app', 'v1', digest('a'))));
      const clients = new EcrClients();
      await follow([member], {
        probeFor: (accountId, region) => new EcrRegistrySource({ accountId, region, clients }),
      });
      expect(ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input)).toEqual([
        { registryId: MEMBER, repositoryName: 'team/app', imageIds: [{ imageDigest: digest('a') }] },
      ]);
      expect((await store.load(member.registry)).state.get('team/app')?.images.get(digest('a'))).toEqual({
        digest: digest('a'),
        tags: ['v1'],
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        pushedAt: '2026-01-01T00:00:01.000Z',
        sizeBytes: 1234,
      });
    } finally {
      ecr.restore();
    }
  });

  it('runs as `catalog follow <queue> --config … --until-empty`, with the scope and regions of the configuration', async () => {
    const member = new FakeRegistry(registryOf(MEMBER));
    queue.send(
      ecrMessage(member.push('team/app', 'v1', digest('a'))),
      ecrMessage(new FakeRegistry(registryOf(OUTSIDER)).push('x', 'v1', digest('b'))),
    );
    const config = await configFile(
      'organization.yaml',
      'catalog: { ecrEvents: { enabled: true, regions: [eu-west-1] } }',
    );
    const storeFile = join(dir, `cli${++counter}.sqlite`);
    let regionsSeen: string[] = [];
    const result = await runCatalog(
      ['follow', queue.url, '--config', config, '--until-empty', '--store', storeFile],
      {
        createFollowDeps: (resolved) => {
          regionsSeen = [...resolved.derived.catalogEventRegions];
          return Promise.resolve({
            queue: new SqsEventQueue(new SQSClient({ region: REGION }), queue.url),
            scope: {
              hasAccount: (a) => Promise.resolve(a === MEMBER),
              regions: new Set(resolved.derived.catalogEventRegions),
            },
            probeFor: () => member,
            close: () => undefined,
          });
        },
      },
    );
    expect(result.code).toBe(0);
    expect(regionsSeen).toEqual(['eu-west-1']);
    expect(result.stdout).toContain(
      '2 messages: 1 events handled, 0 ignored, 1 refused, 0 left for another attempt',
    );
    const status = await runCatalog(['status', '--store', storeFile, '--json']);
    const rows = (JSON.parse(status.stdout) as { registries: { registry: string }[] }).registries;
    expect(rows.map((r) => r.registry)).toEqual([registryOf(MEMBER), registryOf(OUTSIDER)]);
  });

  it('refuses to follow with a configuration where catalog.ecrEvents is not enabled, naming the setting', async () => {
    const config = await configFile('no-events.yaml');
    let built = false;
    const result = await runCatalog(['follow', queue.url, '--config', config, '--until-empty'], {
      createFollowDeps: () => {
        built = true;
        return Promise.reject(new Error('no queue should be read'));
      },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`catalog.ecrEvents.enabled is not true in ${config}`);
    expect(result.stderr).toContain('enable it and deploy');
    expect(built).toBe(false);
  });
});

describe('two followers draining one queue into one PostgreSQL store', () => {
  it('end with the catalog a scan of each registry gives, whatever the order and duplicates', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    const location: StoreLocation = { kind: 'postgres', url: await postgres.createDatabase('followers') };
    const queue = new FakeSqsQueue(2000);
    const registries = [new FakeRegistry(registryOf(MEMBER)), new FakeRegistry(registryOf(OTHER_MEMBER))];
    // A few hundred changes: pushes of new images, tags moving between them, tags and images deleted.
    const bodies: string[] = [];
    let seed = 7;
    const random = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
    for (let i = 0; i < 300; i++) {
      const registry = registries[i % 2];
      const repository = `repo-${random(4)}`;
      const tag = `t${random(6)}`;
      const choice = random(10);
      if (choice < 6) bodies.push(ecrMessage(registry.push(repository, tag, digest(`i${random(12)}`))));
      else if (choice < 8 && registry.repos.get(repository)?.has(tag))
        bodies.push(ecrMessage(deleteTagEcr(registry, repository, tag)));
      else {
        const target = [...(registry.repos.get(repository)?.values() ?? [])][0];
        if (target) bodies.push(ecrMessage(registry.deleteImage(repository, target)));
      }
    }
    // SQS keeps no order and delivers some messages twice.
    const shuffled = bodies
      .map((b) => ({ b, k: random(1_000_000) }))
      .sort((x, y) => x.k - y.k)
      .map((x) => x.b);
    queue.send(...shuffled, ...shuffled.filter((_, i) => i % 10 === 0));

    const stores = [await openCatalogStore(location), await openCatalogStore(location)];
    try {
      const run = (store: CatalogStore) =>
        followQueue({
          queue: new SqsEventQueue(new SQSClient({ region: REGION }), queue.url),
          store,
          scope,
          probeFor: (account) => registries.find((r) => r.registry === registryOf(account)) as FakeRegistry,
          log: () => undefined,
          untilEmpty: true,
          roundSize: 20,
          retry: { initialMs: 10, maxMs: 50 },
        });
      const [left, right] = await Promise.all([run(stores[0]), run(stores[1])]);
      expect(left.handled).toBeGreaterThan(0);
      expect(right.handled).toBeGreaterThan(0);
      expect(left.handled + right.handled).toBe(shuffled.length + Math.ceil(shuffled.length / 10));
      expect(queue.size).toBe(0);

      for (const registry of registries) {
        const truth = await openCatalogStore({ kind: 'sqlite', file: join(dir, `truth${++counter}.sqlite`) });
        await scanRegistry(registry, truth);
        expect(await catalogOf(stores[0], registry.registry)).toEqual(
          await catalogOf(truth, registry.registry),
        );
        await truth.close();
        // A reconciling scan finds nothing the events missed.
        registry.tick();
        expect((await scanRegistry(registry, stores[0])).changes).toEqual([]);
      }
    } finally {
      queue.restore();
      for (const store of stores) await store.close();
    }
  });
});
