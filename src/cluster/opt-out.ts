import {
  DescribeClusterCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type EKSClient,
} from '@aws-sdk/client-eks';
import { OPT_OUT_TAG } from '../eks/run-contract.js';
import { describeError } from '../shared/describe-error.js';
import { ClusterError } from './errors.js';

/**
 * Sets (`optedOut` true) or removes the cluster tag that opts it out of EKS Protection
 * (OPT_OUT_TAG), with the caller's credentials for the cluster's account (eks:TagResource /
 * eks:UntagResource on the cluster).
 */
export async function setOptOutTag(eks: EKSClient, cluster: string, optedOut: boolean): Promise<void> {
  try {
    const arn = (await eks.send(new DescribeClusterCommand({ name: cluster }))).cluster?.arn;
    if (!arn) throw new ClusterError(`DescribeCluster answered without the ARN of ${cluster}`);
    if (optedOut) {
      await eks.send(
        new TagResourceCommand({ resourceArn: arn, tags: { [OPT_OUT_TAG.key]: OPT_OUT_TAG.value } }),
      );
    } else {
      await eks.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: [OPT_OUT_TAG.key] }));
    }
  } catch (error) {
    const what = optedOut
      ? `tag cluster ${cluster} ${OPT_OUT_TAG.key}=${OPT_OUT_TAG.value} (so the next sweep leaves it alone)`
      : `remove the tag ${OPT_OUT_TAG.key} from cluster ${cluster}`;
    throw new ClusterError(
      `could not ${what}: ${describeError(error)}; the credentials need eks:${optedOut ? 'TagResource' : 'UntagResource'} on the cluster${optedOut ? ', or pass --no-opt-out to uninstall without the tag' : ''}`,
      { cause: error },
    );
  }
}
