import * as cdk from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../../nag.js';

export interface OrganizationTrailProps {
  readonly trailName: string;
  readonly organizationId: string;
}

/**
 * An organization trail logging write management events in every region of every account, so
 * EventBridge sees EKS CreateCluster and CreateFargateProfile calls. Its bucket is encrypted,
 * TLS-only, private, and its policy admits CloudTrail for the account's and the organization's log
 * paths only from this trail (CDK writes that policy from `orgId` and `trailName`). The bucket is
 * kept when the stack is deleted: it holds audit records.
 */
export class OrganizationTrail extends Construct {
  readonly trail: cloudtrail.Trail;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: OrganizationTrailProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    acknowledge(this.bucket, {
      id: 'AwsSolutions-S1',
      reason:
        'The bucket receives CloudTrail log files only; every write is by CloudTrail itself and recorded in the trail, so server access logs would log the logger.',
    });
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: props.trailName,
      bucket: this.bucket,
      isOrganizationTrail: true,
      orgId: props.organizationId,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      managementEvents: cloudtrail.ReadWriteType.WRITE_ONLY,
      enableFileValidation: true,
      sendToCloudWatchLogs: false,
    });
    this.trail.node.addDependency(this.bucket.policy ?? this.bucket);
  }
}
