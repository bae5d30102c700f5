import { describe, expect, it } from 'vitest';
import { clusterFacts, computeMode } from '../../src/eks/cluster-facts.js';
import { compareVersions, judgeCluster } from '../../src/eks/verdict.js';

const api = { authenticationMode: 'API' as const };

describe('cluster facts', () => {
  it('reads endpoint access, allow-list, auth mode and compute as the EKS API reports them', () => {
    const facts = clusterFacts(
      {
        name: 'c',
        status: 'ACTIVE',
        version: '1.30',
        accessConfig: api,
        resourcesVpcConfig: {
          endpointPublicAccess: true,
          endpointPrivateAccess: true,
          publicAccessCidrs: ['198.51.100.0/24'],
        },
      },
      ['ng'],
      ['fp-1', 'fp-2'],
    );
    expect(facts).toEqual({
      name: 'c',
      status: 'ACTIVE',
      authenticationMode: 'API',
      version: '1.30',
      endpoint: { public: true, private: true, publicAccessCidrs: ['198.51.100.0/24'] },
      nodegroups: 1,
      fargateProfiles: 2,
      compute: 'mixed',
      optedOut: false,
    });
    const privateOnly = clusterFacts(
      { name: 'p', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } },
      [],
      [],
    );
    expect(privateOnly.endpoint).toEqual({ public: false, private: true, publicAccessCidrs: [] });
    expect(privateOnly.authenticationMode).toBe('CONFIG_MAP'); // no accessConfig: predates access entries
    expect([computeMode(1, 0), computeMode(0, 1), computeMode(2, 3), computeMode(0, 0)]).toEqual([
      'nodes',
      'fargate',
      'mixed',
      'none',
    ]);
  });
});

describe('verdicts', () => {
  const base = clusterFacts({ name: 'c', status: 'ACTIVE', version: '1.31', accessConfig: api }, ['ng'], []);

  it('names the first blocking reason in the order a user would fix them, each with what to do', () => {
    expect(judgeCluster(base)).toMatchObject({ kind: 'eligible', code: 'eligible' });
    expect(judgeCluster({ ...base, status: 'CREATING' })).toMatchObject({
      kind: 'ineligible',
      code: 'not-active',
      reason: expect.stringMatching(/CreateCluster event/) as unknown,
    });
    expect(judgeCluster({ ...base, status: 'CREATING' }, { acceptCreating: true }).kind).toBe('eligible');
    expect(judgeCluster({ ...base, status: 'FAILED' }, { acceptCreating: true })).toMatchObject({
      code: 'not-active',
      reason: expect.stringMatching(/FAILED/) as unknown,
    });
    expect(
      judgeCluster({
        ...base,
        authenticationMode: 'CONFIG_MAP',
        endpoint: { public: false, private: true, publicAccessCidrs: [] },
      }).code,
    ).toBe('config-map-auth');
    expect(
      judgeCluster({ ...base, endpoint: { public: false, private: true, publicAccessCidrs: [] } }).code,
    ).toBe('private-endpoint');
    expect(judgeCluster({ ...base, version: '1.27' })).toMatchObject({
      code: 'unsupported-version',
      reason: expect.stringMatching(/1\.27 is older than 1\.28/) as unknown,
    });
    expect(judgeCluster({ ...base, version: '1.29' }, { minKubernetesVersion: '1.30' }).code).toBe(
      'unsupported-version',
    );
    expect(judgeCluster({ ...base, compute: 'none', nodegroups: 0 })).toMatchObject({
      kind: 'eligible',
      code: 'no-listable-compute',
      reason: expect.stringMatching(/self-managed nodes .* cannot be listed by the EKS API/) as unknown,
    });
    expect(
      judgeCluster({
        ...base,
        endpoint: { public: true, private: false, publicAccessCidrs: ['203.0.113.7/32'] },
      }).reason,
    ).toMatch(/203\.0\.113\.7\/32.*allowListEgress/);
  });

  it('compares Kubernetes versions numerically', () => {
    expect(compareVersions('1.10', '1.9')).toBeGreaterThan(0);
    expect(compareVersions('1.28', '1.28')).toBe(0);
    expect(compareVersions('1.27.3', '1.28')).toBeLessThan(0);
  });
});

describe('opting a cluster out by tag', () => {
  it('falcon-org/protect=false (any case) is its own verdict, before anything that could be fixed; other values protect', () => {
    const facts = (tags?: Record<string, string>) =>
      clusterFacts(
        {
          name: 'c',
          status: 'DELETING',
          accessConfig: { authenticationMode: 'CONFIG_MAP' },
          ...(tags ? { tags } : {}),
        },
        [],
        [],
      );
    expect(judgeCluster(facts({ 'falcon-org/protect': 'FALSE' }))).toMatchObject({
      kind: 'ineligible',
      code: 'opted-out',
      reason: expect.stringContaining('Remove the tag') as string,
    });
    expect(judgeCluster(facts({ 'falcon-org/protect': 'true' })).code).toBe('not-active');
    expect(judgeCluster(facts({ protect: 'false' })).code).toBe('not-active');
    expect(judgeCluster(facts()).code).toBe('not-active');
  });
});
