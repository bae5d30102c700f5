import * as cdk from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ResolvedConfig } from '../config/load.js';
import { SHARED_CLIENT_PARAMETERS, type ResolvedFalconClient } from '../falcon/credentials.js';
import { acknowledge } from './nag.js';
import type { OrgStackSetParameter } from './org-stackset.js';

/**
 * Names of the shared client's root stack NoEcho parameters that `deploy` fills from the environment;
 * also the names of the parameters that carry a client into a member template.
 */
export const CLIENT_ID_PARAMETER = SHARED_CLIENT_PARAMETERS.clientId;
export const CLIENT_SECRET_PARAMETER = SHARED_CLIENT_PARAMETERS.clientSecret;

/**
 * Characters that would break the JSON the secrets are assembled into (quotes, backslashes,
 * control characters) are refused by CloudFormation before anything is created. Falcon API client
 * IDs and secrets are alphanumeric.
 */
export const CREDENTIAL_PATTERN = '^[^"\\\\\\x00-\\x1f]+$';

export const SECRET_ROTATION_REASON =
  'Falcon API clients are rotated in the Falcon console, not by a rotation Lambda; a new client is rolled out by deploying again with the new values.';

/**
 * The StackSet parameters that carry the credentials to member accounts: NoEcho on both sides, named
 * like the root stack's parameters.
 */
export function credentialParameters(
  credentials: Pick<FalconCredentials, 'clientId' | 'clientSecret'>,
): Record<string, OrgStackSetParameter> {
  const parameter = (value: string, description: string): OrgStackSetParameter => ({
    value,
    noEcho: true,
    allowedPattern: CREDENTIAL_PATTERN,
    description,
  });
  return {
    [CLIENT_ID_PARAMETER]: parameter(credentials.clientId, 'Falcon API client ID'),
    [CLIENT_SECRET_PARAMETER]: parameter(credentials.clientSecret, 'Falcon API client secret'),
  };
}

/**
 * The JSON object a Falcon credentials secret holds: `ClientId` and `ClientSecret` from NoEcho
 * parameters (CloudFormation fills them in; no template holds a value), then the plain settings
 * (`Cloud`, optionally `BaseUrl`).
 */
export function credentialsSecretObject(
  clientId: cdk.CfnParameter,
  clientSecret: cdk.CfnParameter,
  plain: Readonly<Record<string, string>>,
): Record<string, cdk.SecretValue> {
  return {
    ClientId: cdk.SecretValue.cfnParameter(clientId),
    ClientSecret: cdk.SecretValue.cfnParameter(clientSecret),
    ...Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, cdk.SecretValue.unsafePlainText(v)])),
  };
}

export interface FalconCredentialsProps {
  readonly config: ResolvedConfig;
  /** Which client this is: the shared one or a feature's own (see resolveFalconClient). */
  readonly client: ResolvedFalconClient;
  /**
   * With `secretsManager`: the version ID of the secret to read (`falcon-org deploy` passes the
   * AWSCURRENT version it finds). It is part of the dynamic references, so the template text changes
   * when the secret is rotated and CloudFormation rolls the new values out to every member account;
   * a deploy without a rotation leaves the template unchanged.
   * @default - the dynamic references name no version (CloudFormation reads AWSCURRENT, and does not
   * notice a rotation)
   */
  readonly secretVersionId?: string;
}

/**
 * One Falcon API client in the home account: the shared one (`falcon.credentials`) or a feature's own
 * (`falcon.clients.<feature>`). With source `environment` it arrives as NoEcho root stack parameters
 * and is stored in a secret created here; with `secretsManager` the existing secret is used and values
 * are read from it by CloudFormation dynamic references at deploy time. Either way no template holds a
 * value.
 */
export class FalconCredentials extends Construct {
  /** The secret (keys ClientId, ClientSecret and, when created here, Cloud). */
  readonly secret: secretsmanager.ISecret;
  /** A reference CloudFormation resolves to the client ID (NoEcho parameter or dynamic reference). */
  readonly clientId: string;
  /** A reference CloudFormation resolves to the client secret (NoEcho parameter or dynamic reference). */
  readonly clientSecret: string;
  readonly client: ResolvedFalconClient;

  constructor(scope: Construct, id: string, props: FalconCredentialsProps) {
    super(scope, id);
    const { client } = props;
    this.client = client;
    const { cloud } = props.config.falcon;
    if (client.source === 'secretsManager' && client.secretArn !== undefined) {
      this.secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', client.secretArn);
      const field = (jsonField: string) =>
        cdk.SecretValue.secretsManager(this.secret.secretArn, {
          jsonField,
          ...(props.secretVersionId ? { versionId: props.secretVersionId } : {}),
        }).unsafeUnwrap();
      this.clientId = field('ClientId');
      this.clientSecret = field('ClientSecret');
      return;
    }
    const stack = cdk.Stack.of(this);
    const whose = client.shared ? 'Falcon API client' : `Falcon API client of ${client.feature}`;
    const idParam = new cdk.CfnParameter(stack, client.parameters.clientId, {
      type: 'String',
      noEcho: true,
      allowedPattern: CREDENTIAL_PATTERN,
      description: `${whose}: ID (set by falcon-org deploy from ${client.variables.clientId})`,
    });
    const secretParam = new cdk.CfnParameter(stack, client.parameters.clientSecret, {
      type: 'String',
      noEcho: true,
      allowedPattern: CREDENTIAL_PATTERN,
      description: `${whose}: secret (set by falcon-org deploy from ${client.variables.clientSecret})`,
    });
    const secret = new secretsmanager.Secret(this, 'Secret', {
      description: client.shared
        ? 'Falcon API credentials used by falcon-org in the home account'
        : `falcon-org: the Falcon API client of ${client.feature} (scopes ${client.scopes.join(', ')})`,
      secretObjectValue: credentialsSecretObject(idParam, secretParam, { Cloud: cloud }),
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    acknowledge(secret, { id: 'AwsSolutions-SMG4', reason: SECRET_ROTATION_REASON });
    this.secret = secret;
    this.clientId = idParam.valueAsString;
    this.clientSecret = secretParam.valueAsString;
  }
}
