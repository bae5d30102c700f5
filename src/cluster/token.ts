import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/*
 * The EKS bearer token (the aws-iam-authenticator scheme): a SigV4-presigned STS
 * GetCallerIdentity URL that signs the `x-k8s-aws-id: <cluster>` header, base64url-encoded
 * without padding behind "k8s-aws-v1.". The API server forwards it to STS to learn who calls.
 */

export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** The API server accepts a token for 15 minutes from its signing date. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;

export interface AwsIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface TokenInput {
  readonly cluster: string;
  /** Region of the STS endpoint and of the signature. */
  readonly region: string;
  readonly credentials: AwsIdentity;
  readonly signingDate: Date;
  /** STS host. @default `sts.<region>.amazonaws.com` (`.com.cn` in the China regions) */
  readonly stsHost?: string;
  /** @default 60 */
  readonly expiresInSeconds?: number;
}

/** SHA-256 / HMAC-SHA-256 from node:crypto in the shape the signer asks for. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    throw new Error('reset is not supported');
  }
}

function toBytes(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The regional STS endpoint; the China regions live under amazonaws.com.cn. */
export function stsHostOf(region: string): string {
  return `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** The presigned STS URL the token wraps. */
export async function presignedIdentityUrl(input: TokenInput): Promise<string> {
  const hostname = input.stsHost ?? stsHostOf(input.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: input.region,
    credentials: input.credentials,
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': input.cluster },
    },
    { expiresIn: input.expiresInSeconds ?? 60, signingDate: input.signingDate },
  );
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v ?? ''] as const]))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `https://${hostname}/?${query}`;
}

/** `k8s-aws-v1.` + base64url(presigned URL) without padding. */
export async function eksToken(input: TokenInput): Promise<string> {
  const url = await presignedIdentityUrl(input);
  return TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** Reads the presigned URL back out of a token (the stand-in uses it; also handy for debugging). */
export function decodeEksToken(token: string): URL | undefined {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  try {
    return new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface TokenSourceOptions {
  readonly cluster: string;
  readonly region: string;
  readonly credentials: () => Promise<AwsIdentity>;
  readonly now?: () => number;
  /** Make a new token when the current one is older than this. @default 10 minutes */
  readonly renewAfterMs?: number;
  readonly stsHost?: string;
}

/** Hands out a cached token and renews it before the API server would refuse it. */
export class TokenSource {
  private current: { token: string; issuedAt: number } | undefined;
  renewals = 0;

  constructor(private readonly options: TokenSourceOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async get(): Promise<string> {
    const renewAfter = this.options.renewAfterMs ?? 10 * 60_000;
    if (this.current && this.now() - this.current.issuedAt < renewAfter) return this.current.token;
    return this.renew();
  }

  /** Forgets the current token (after a 401) and makes a new one. */
  async renew(): Promise<string> {
    const issuedAt = this.now();
    const token = await eksToken({
      cluster: this.options.cluster,
      region: this.options.region,
      credentials: await this.options.credentials(),
      signingDate: new Date(issuedAt),
      ...(this.options.stsHost !== undefined ? { stsHost: this.options.stsHost } : {}),
    });
    if (this.current) this.renewals++;
    this.current = { token, issuedAt };
    return token;
  }
}
