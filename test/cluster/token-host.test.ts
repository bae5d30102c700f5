import { describe, expect, it } from 'vitest';
import { decodeEksToken, eksToken } from '../../src/cluster/token.js';

const input = (region: string) => ({
  cluster: 'prod',
  region,
  credentials: { accessKeyId: 'akid', secretAccessKey: 'secret' },
  signingDate: new Date('2026-11-29T12:00:00Z'),
});

describe('EKS token STS endpoint', () => {
  it('signs for the regional STS host of each partition', async () => {
    expect(decodeEksToken(await eksToken(input('eu-west-1')))?.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(decodeEksToken(await eksToken(input('us-gov-west-1')))?.host).toBe(
      'sts.us-gov-west-1.amazonaws.com',
    );
    expect(decodeEksToken(await eksToken(input('cn-north-1')))?.host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});
