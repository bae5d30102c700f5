import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/config/errors.js';
import { ArtifactBucket } from '../../src/infra/artifact-bucket.js';
import { MissingLambdaBundleError } from '../../src/infra/errors.js';
import { dummyLambdaDir, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function bucketIn(lambdaDir: string) {
  const outdir = tempDir('bucket');
  dirs.push(outdir, lambdaDir);
  const app = new cdk.App({ outdir });
  const stack = new cdk.Stack(app, 'Root', { env: { region: 'us-east-1' } });
  const artifacts = new ArtifactBucket(stack, 'Artifacts', { organizationId: 'o-a1b2c3d4e5', lambdaDir });
  return { stack, artifacts };
}

describe('ArtifactBucket', () => {
  it('is versioned, encrypted, private and readable only by organization principals over TLS', () => {
    const { stack } = bucketIn(dummyLambdaDir());
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          {
            Sid: 'OrganizationPrincipalsReadArtifacts',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:GetObjectVersion'],
            Principal: { AWS: '*' },
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }, '/*']] },
            Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
          },
        ]),
      },
    });
    // No statement grants anything to everyone without the organization condition.
    const policies = template.findResources('AWS::S3::BucketPolicy');
    for (const policy of Object.values(policies)) {
      const statements = (
        policy as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }
      ).Properties.PolicyDocument.Statement;
      for (const s of statements) {
        if (s['Effect'] === 'Allow' && JSON.stringify(s['Principal']) === '{"AWS":"*"}') {
          expect(s['Condition']).toEqual({ StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } });
        }
      }
    }
  });

  it('uploads each requested bundle as a zip on deploy and returns a content-dependent key', () => {
    const { stack, artifacts } = bucketIn(dummyLambdaDir('ecr-connect', 'other'));
    const first = artifacts.codeFor('ecr-connect');
    expect(artifacts.codeFor('ecr-connect')).toBe(first);
    artifacts.codeFor('other');
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::CDKBucketDeployment', 2);
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      Extract: false,
      Prune: false,
      DestinationBucketKeyPrefix: 'lambda/ecr-connect/',
      SourceObjectKeys: [Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$')],
    });
    // The handler copies `<hash>.zip` to `lambda/ecr-connect/<hash>.zip`: the key Lambda reads must
    // carry the destination prefix, or CreateFunction finds no object.
    const deployments = template.findResources('Custom::CDKBucketDeployment', {
      Properties: { DestinationBucketKeyPrefix: 'lambda/ecr-connect/' },
    });
    expect(Object.keys(deployments)).toHaveLength(1);
    expect(stack.resolve(first.key)).toEqual({
      'Fn::Join': [
        '',
        [
          'lambda/ecr-connect/',
          { 'Fn::Select': [0, { 'Fn::GetAtt': [Object.keys(deployments)[0], 'SourceObjectKeys'] }] },
        ],
      ],
    });
    expect(stack.resolve(first.bucketName)).toEqual({
      Ref: expect.stringMatching(/^ArtifactsBucket/) as unknown,
    });
  });

  it('changes the uploaded object when the bundle changes', () => {
    const keyOf = (content: string) => {
      const dir = dummyLambdaDir('fn');
      writeFileSync(join(dir, 'fn', 'index.mjs'), content);
      const { stack, artifacts } = bucketIn(dir);
      artifacts.codeFor('fn');
      const cr = Object.values(Template.fromStack(stack).findResources('Custom::CDKBucketDeployment'))[0] as {
        Properties: { SourceObjectKeys: string[] };
      };
      return cr.Properties.SourceObjectKeys[0];
    };
    expect(keyOf('export const handler = 1;')).not.toEqual(keyOf('export const handler = 2;'));
  });

  it('refuses a bundle that has not been built, with a user-fixable error naming npm run build', () => {
    const { artifacts } = bucketIn(dummyLambdaDir());
    expect(() => artifacts.codeFor('ecr-connect')).toThrow(MissingLambdaBundleError);
    expect(() => artifacts.codeFor('ecr-connect')).toThrow(UserInputError);
    expect(() => artifacts.codeFor('ecr-connect')).toThrow(/run "npm run build"/);
  });
});
