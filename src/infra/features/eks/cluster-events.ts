/**
 * The CloudTrail management events EKS Protection reacts to, as EventBridge sees them. The same
 * pattern is used by every member forwarding rule and by the rule on the central bus, so an event
 * the home rule would drop is never forwarded.
 */
export const CLUSTER_EVENT_NAMES = ['CreateCluster', 'CreateFargateProfile'] as const;

export const CLUSTER_EVENT_PATTERN = {
  source: ['aws.eks'],
  detailType: ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['eks.amazonaws.com'],
    eventName: [...CLUSTER_EVENT_NAMES],
  },
};
