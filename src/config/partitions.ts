/** AWS partitions this project deploys to, with their regions and partition-specific facts. */
export type PartitionName = 'aws' | 'aws-us-gov';

export interface PartitionInfo {
  readonly name: PartitionName;
  readonly label: string;
  readonly regions: readonly string[];
  /** CrowdStrike's registry-assessment principal that assumes the ECR connection role. */
  readonly registryAssessmentPrincipal: string;
}

const COMMERCIAL_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
] as const;

const GOVCLOUD_REGIONS = ['us-gov-east-1', 'us-gov-west-1'] as const;

export const PARTITIONS: Record<PartitionName, PartitionInfo> = {
  aws: {
    name: 'aws',
    label: 'commercial',
    regions: COMMERCIAL_REGIONS,
    registryAssessmentPrincipal: 'arn:aws:iam::292230061137:role/CrowdStrikeCustomerRegistryAssessmentRole',
  },
  'aws-us-gov': {
    name: 'aws-us-gov',
    label: 'GovCloud (US)',
    regions: GOVCLOUD_REGIONS,
    registryAssessmentPrincipal:
      'arn:aws-us-gov:iam::358431324613:role/CrowdStrikeCustomerRegistryAssessmentRole',
  },
};

export const ALL_REGIONS: readonly string[] = [...COMMERCIAL_REGIONS, ...GOVCLOUD_REGIONS];

export function partitionOfRegion(region: string): PartitionName | undefined {
  if ((GOVCLOUD_REGIONS as readonly string[]).includes(region)) return 'aws-us-gov';
  if ((COMMERCIAL_REGIONS as readonly string[]).includes(region)) return 'aws';
  return undefined;
}
