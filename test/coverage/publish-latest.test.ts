import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadLatestReport,
  loadLatestReportFor,
  locateReportBucket,
  parseStoredReport,
  readLatestReport,
  reportBucketParameterName,
} from '../../src/coverage/latest.js';
import { LatestReportError } from '../../src/coverage/publish-errors.js';
import { sampleReport } from './publish-fixture.js';

const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);
afterEach(() => {
  s3.reset();
  ssm.reset();
});

const clients = () => ({
  s3: new S3Client({ region: 'eu-west-1' }),
  ssm: new SSMClient({ region: 'eu-west-1' }),
});
const body = (text: string) => ({ Body: { transformToString: () => Promise.resolve(text) } }) as never;

describe('status --latest: finding and reading the last stored report', () => {
  it('finds the bucket through the parameter the stack writes and reads latest.json from it', async () => {
    // Prepare
    const stored = sampleReport();
    ssm.on(GetParameterCommand, { Name: '/falcon-org/coverage/report-bucket' }).resolves({
      Parameter: { Value: 'falcon-org-coveragereports-1a2b3c' },
    });
    s3.on(GetObjectCommand, { Bucket: 'falcon-org-coveragereports-1a2b3c', Key: 'latest.json' }).resolves(
      body(JSON.stringify(stored)),
    );
    // Act
    const latest = await loadLatestReport(clients(), { resourcePrefix: 'falcon-org' });
    // Assess
    expect(latest).toEqual({
      bucket: 'falcon-org-coveragereports-1a2b3c',
      key: 'latest.json',
      report: stored,
    });
    expect(reportBucketParameterName('acme')).toBe('/acme/coverage/report-bucket');
  });

  it('from the configuration: asks in the home region and names the function in its hint', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'bucket-1' } });
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));
    const config = { resourcePrefix: 'acme', aws: { homeRegion: 'eu-central-1' } };
    await expect(loadLatestReportFor(config)).rejects.toThrow(/--function-name acme-coverage /);
    const call = ssm.commandCalls(GetParameterCommand)[0];
    expect(call?.args[0].input).toEqual({ Name: '/acme/coverage/report-bucket' });
    expect(await (call?.thisValue as SSMClient).config.region()).toBe('eu-central-1');
  });

  it('uses a given bucket without asking SSM', async () => {
    s3.on(GetObjectCommand).resolves(body(JSON.stringify(sampleReport())));
    await loadLatestReport(clients(), { resourcePrefix: 'falcon-org', bucket: 'my-bucket' });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'my-bucket',
      Key: 'latest.json',
    });
  });

  it('says how to deploy the report when no bucket is recorded', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    await expect(locateReportBucket(clients().ssm, 'falcon-org')).rejects.toThrow(
      new LatestReportError(
        'no coverage report bucket is recorded (SSM parameter /falcon-org/coverage/report-bucket not found in this account and region): deploy with coverage.enabled: true, or run status without --latest',
      ),
    );
  });

  it('says how to start a run when nothing is stored yet, and passes other S3 errors on with their name', async () => {
    s3.on(GetObjectCommand)
      .rejectsOnce(new NoSuchKey({ message: 'no such key', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(readLatestReport(clients().s3, 'b', { functionName: 'acme-coverage' })).rejects.toThrow(
      /^no coverage report has been stored yet \(s3:\/\/b\/latest.json does not exist\): wait for the schedule or run one now with "aws lambda invoke --function-name acme-coverage --invocation-type Event \/dev\/null"$/,
    );
    await expect(readLatestReport(clients().s3, 'b')).rejects.toThrow(
      'could not read s3://b/latest.json: AccessDenied: Access Denied',
    );
  });

  it('refuses what is not a report of this schema version, naming the object', () => {
    expect(() => parseStoredReport('<html>', 's3://b/latest.json')).toThrow('s3://b/latest.json is not JSON');
    expect(() => parseStoredReport(JSON.stringify({ ...sampleReport(), schemaVersion: 1 }), 'x')).toThrow(
      'x has report schema version 1; this falcon-org reads version 2 (use the falcon-org version the function runs)',
    );
    const withoutCells: Record<string, unknown> = { ...sampleReport() };
    delete withoutCells['cells'];
    expect(() => parseStoredReport(JSON.stringify(withoutCells), 'x')).toThrow(
      'x is not a complete coverage report',
    );
    expect(parseStoredReport(JSON.stringify(sampleReport()), 'x')).toEqual(sampleReport());
  });

  it('checks the features, states and totals the renderers index by, naming the key', () => {
    const broken = (edit: (r: Record<string, never>) => void) => {
      const r = JSON.parse(JSON.stringify(sampleReport())) as Record<string, never>;
      edit(r);
      return () => parseStoredReport(JSON.stringify(r), 's3://b/latest.json');
    };
    type Loose = Record<string, unknown>;
    const cells = (r: Record<string, never>) => r['cells'] as Loose[];
    const totals = (r: Record<string, never>) => r['totals'] as Record<string, Loose>;
    const scope = (r: Record<string, never>) => r['scope'] as { features: string[] };

    expect(broken((r) => void ((cells(r)[0] ?? {})['state'] = 'mostly'))).toThrow(
      /^s3:\/\/b\/latest\.json is not a complete coverage report: cells\[0\]\.state: /,
    );
    expect(broken((r) => void ((cells(r)[0] ?? {})['feature'] = 'lambdaLayers'))).toThrow('cells[0].feature');
    expect(broken((r) => void scope(r).features.push('lambdaLayers'))).toThrow('scope.features[');
    expect(broken((r) => void ((totals(r)['ssmDistributor'] ?? {})['protected'] = 'many'))).toThrow(
      'totals.ssmDistributor.protected',
    );
    expect(broken((r) => void (totals(r)['lambdaLayers'] = totals(r)['ssmDistributor'] ?? {}))).toThrow(
      'totals',
    );
    expect(broken((r) => void delete totals(r)['ssmDistributor'])).toThrow('totals.ssmDistributor: missing');
    expect(broken((r) => void (r['allProtected'] = 'yes' as never))).toThrow('allProtected');
    // A field a newer function adds is not a reason to refuse the report.
    expect(broken((r) => void (r['generatedBy'] = 'falcon-org 9' as never))).not.toThrow();
  });
});
