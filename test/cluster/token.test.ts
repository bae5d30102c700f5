import { describe, expect, it } from 'vitest';
import { decodeEksToken, eksToken, presignedIdentityUrl, TokenSource } from '../../src/cluster/token.js';

/** The published vector (AWS SDK for Ruby presigner tests), see eks-auth.md. */
const VECTOR = {
  cluster: 'my-eks-cluster',
  region: 'us-west-2',
  stsHost: 'sts.amazonaws.com',
  credentials: { accessKeyId: 'akid', secretAccessKey: 'secret' },
  signingDate: new Date('2018-08-05T00:00:00Z'),
  expiresInSeconds: 59,
};

describe('EKS bearer token', () => {
  it('matches the published presign test vector', async () => {
    const url = new URL(await presignedIdentityUrl(VECTOR));
    expect(url.host).toBe('sts.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('59');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20180805T000000Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('akid/20180805/us-west-2/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      'd1f6551aafc0f5c57971fe161a12cbe0539fc1681698ea4a4c0fde5abc51e32e',
    );
  });

  it('is k8s-aws-v1. plus the unpadded base64url of the presigned URL', async () => {
    const token = await eksToken(VECTOR);
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token).not.toMatch(/[=+/]/);
    expect(decodeEksToken(token)?.toString()).toBe(await presignedIdentityUrl(VECTOR));
    expect(token.length).toBeLessThan(4096);
  });

  it('signs the session token of temporary credentials and the cluster name changes the signature', async () => {
    const withSession = new URL(
      await presignedIdentityUrl({ ...VECTOR, credentials: { ...VECTOR.credentials, sessionToken: 'tok' } }),
    );
    expect(withSession.searchParams.get('X-Amz-Security-Token')).toBe('tok');
    const other = new URL(await presignedIdentityUrl({ ...VECTOR, cluster: 'other' }));
    expect(other.searchParams.get('X-Amz-Signature')).not.toBe(
      'd1f6551aafc0f5c57971fe161a12cbe0539fc1681698ea4a4c0fde5abc51e32e',
    );
  });

  it('reuses a token until it is old, then renews it', async () => {
    let now = Date.parse('2026-11-29T10:00:00Z');
    const source = new TokenSource({
      cluster: 'c',
      region: 'eu-west-1',
      credentials: () => Promise.resolve(VECTOR.credentials),
      now: () => now,
      renewAfterMs: 600_000,
    });
    const first = await source.get();
    now += 599_000;
    expect(await source.get()).toBe(first);
    now += 2_000;
    const second = await source.get();
    expect(second).not.toBe(first);
    expect(decodeEksToken(second)?.searchParams.get('X-Amz-Date')).toBe('20261129T101001Z');
    expect(source.renewals).toBe(1);
  });
});
