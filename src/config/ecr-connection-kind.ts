import { isGovCloud, type FalconCloud } from './clouds.js';
import { PARTITIONS, type PartitionName } from './partitions.js';

/**
 * How an account's ECR registries are connected to Falcon, for each AWS partition × Falcon cloud.
 *
 * - Trust: always CrowdStrike's registry-assessment role of the account's own partition
 *   (commercial 292230061137, GovCloud 358431324613). IAM cannot name a principal of another
 *   partition: a trust policy in `aws` naming an `aws-us-gov` role is rejected with "Invalid principal
 *   in policy" (AWS re:Post knowledge center, iam-trust-policy-error: roles cannot delegate access
 *   between GovCloud and standard accounts). CrowdStrike's registration Lambda (CrowdStrike/cloud-registry-connections,
 *   CommToGovCloud) names the GovCloud role in a commercial account; that role could never be created,
 *   so this is the one place we depart from it.
 * - `aws_gov_using_commercial_connection`: true when the registry's partition and the Falcon cloud are
 *   on different sides. CrowdStrike's Lambda sets it for a commercial account with a gov Falcon cloud;
 *   CrowdStrike's Terraform provider documents it (crowdstrike_falcon_container_image, credential
 *   attribute) on a GovCloud registry using a commercial connection. Both are the crossing case, read from either side; sent as a JSON boolean.
 * - Gov payload: whenever either side is a government cloud, CrowdStrike's Lambda also sends
 *   `all_repositories_monitored: true` and `credential.type: "ecr"` (and the flag, false when not
 *   crossing); commercial to commercial sends neither, nor the flag. We send exactly that.
 */
export interface EcrConnectionKind {
  /** The role ARN the connection role trusts. */
  readonly principal: string;
  /** Either side is a government cloud: send CrowdStrike's gov payload. */
  readonly gov: boolean;
  /** The registry's partition and the Falcon cloud are on different sides. */
  readonly govUsingCommercialConnection: boolean;
}

export function ecrConnectionKind(partition: PartitionName, cloud: FalconCloud): EcrConnectionKind {
  const govAws = partition === 'aws-us-gov';
  const govFalcon = isGovCloud(cloud);
  return {
    principal: PARTITIONS[partition].registryAssessmentPrincipal,
    gov: govAws || govFalcon,
    govUsingCommercialConnection: govAws !== govFalcon,
  };
}
