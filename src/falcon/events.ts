/**
 * What the client reports while it works, for logs and metrics. Events never carry credentials,
 * tokens or request bodies.
 */
export type FalconEvent =
  | {
      readonly type: 'retry';
      readonly operation: string;
      readonly reason: 'server-error' | 'network' | 'timeout';
      readonly status?: number;
      readonly traceId?: string;
      /** The attempt that failed (1-based). */
      readonly attempt: number;
      readonly delayMs: number;
    }
  | {
      readonly type: 'rate-limited';
      readonly operation: string;
      readonly traceId?: string;
      readonly waitMs: number;
      /** How many 429s this request has seen so far. */
      readonly count: number;
    }
  | {
      readonly type: 'token-issued';
      readonly expiresInSeconds: number;
      readonly reason: 'initial' | 'expiring' | 'rejected';
      /** The Falcon cloud that answered (X-CS-Region), when it said. */
      readonly region?: string;
    }
  | { readonly type: 'token-revoked' }
  | { readonly type: 'token-revoke-failed'; readonly error: string }
  | {
      readonly type: 'credential-validation-retry';
      readonly url: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly traceId?: string;
    };

export type FalconEventListener = (event: FalconEvent) => void;
