import * as cdk from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REPORT_KEYS } from '../../../coverage/publish.js';
import { acknowledge } from '../../nag.js';

export interface ReportBucketProps {
  /** Days dated copies and replaced versions of `latest.*` are kept. */
  readonly retentionDays: number;
}

/**
 * Where the coverage function writes `latest.json`, `latest.html` and the dated copies
 * `reports/YYYY/MM/DD/<timestamp>.json`: S3-managed encryption, versioned (an overwritten `latest.*`
 * stays readable for the retention period), TLS only, no public access, bucket-owner-enforced.
 *
 * Kept when the stack is deleted: the reports are audit evidence. CloudFormation names it, so
 * deploying again after a delete never collides with the kept bucket.
 */
export class ReportBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ReportBucketProps) {
    super(scope, id);
    const retention = cdk.Duration.days(props.retentionDays);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'ExpireDatedReports',
          prefix: REPORT_KEYS.datedPrefix,
          expiration: retention,
          noncurrentVersionExpiration: cdk.Duration.days(1),
          abortIncompleteMultipartUploadAfter: cdk.Duration.days(1),
        },
        {
          id: 'ExpireReplacedLatest',
          prefix: REPORT_KEYS.latestPrefix,
          noncurrentVersionExpiration: retention,
          abortIncompleteMultipartUploadAfter: cdk.Duration.days(1),
        },
      ],
    });
    acknowledge(this.bucket, {
      id: 'AwsSolutions-S1',
      reason:
        'Only the coverage function writes here and only the home account reads; object-level access is auditable with CloudTrail data events, so a separate access-log bucket adds cost without value.',
    });
  }
}
