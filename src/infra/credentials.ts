import * as cdk from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ResolvedConfig } from '../config/load.js';
import { acknowledge } from './nag.js';
import type { OrgStackSetParameter } from './org-stackset.js';

/** Names of the root stack's NoEcho parameters that `deploy` fills from the environment. */
export const CLIENT_ID_PARAMETER = 'FalconClientId';
export const CLIENT_SECRET_PARAMETER = 'FalconClientSecret';

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
 * The Falcon API credentials in the home account. With `credentials.source: environment` they
 * arrive as the root stack's NoEcho parameters and are stored in a central secret; with
 * `secretsManager` the existing secret is the central secret and values are read from it by
 * CloudFormation dynamic references at deploy time. Either way no template holds a value.
 */
export class FalconCredentials extends Construct {
  /** The central secret (keys ClientId, ClientSecret and, when created here, Cloud). */
  readonly secret: secretsmanager.ISecret;
  /** A reference CloudFormation resolves to the client ID (NoEcho parameter or dynamic reference). */
  readonly clientId: string;
  /** A reference CloudFormation resolves to the client secret (NoEcho parameter or dynamic reference). */
  readonly clientSecret: string;

  constructor(scope: Construct, id: string, props: FalconCredentialsProps) {
    super(scope, id);
    const { credentials, cloud } = props.config.falcon;
    if (credentials.source === 'secretsManager' && credentials.secretArn) {
      this.secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', credentials.secretArn);
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
    const idParam = new cdk.CfnParameter(stack, CLIENT_ID_PARAMETER, {
      type: 'String',
      noEcho: true,
      allowedPattern: CREDENTIAL_PATTERN,
      description: 'Falcon API client ID (set by falcon-org deploy from FALCON_CLIENT_ID)',
    });
    const secretParam = new cdk.CfnParameter(stack, CLIENT_SECRET_PARAMETER, {
      type: 'String',
      noEcho: true,
      allowedPattern: CREDENTIAL_PATTERN,
      description: 'Falcon API client secret (set by falcon-org deploy from FALCON_CLIENT_SECRET)',
    });
    const secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Falcon API credentials used by falcon-org in the home account',
      secretObjectValue: credentialsSecretObject(idParam, secretParam, { Cloud: cloud }),
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    acknowledge(secret, { id: 'AwsSolutions-SMG4', reason: SECRET_ROTATION_REASON });
    this.secret = secret;
    this.clientId = idParam.valueAsString;
    this.clientSecret = secretParam.valueAsString;
  }
}
