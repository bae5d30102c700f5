import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { listenOnLoopback } from '../services/free-port.js';

export interface CapturedResponse {
  readonly path: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/**
 * Stands in for the pre-signed S3 ResponseURL CloudFormation gives a custom resource: records every PUT.
 * `failNext` makes the next answers 500 (as S3 does now and then) to exercise the sender's retries.
 */
export class CfnCaptureServer {
  readonly responses: CapturedResponse[] = [];
  failNext = 0;
  private server: Server | undefined;
  private base = '';

  static async start(): Promise<CfnCaptureServer> {
    const capture = new CfnCaptureServer();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (capture.failNext > 0) {
          capture.failNext -= 1;
          res.writeHead(500).end('InternalError');
          return;
        }
        capture.responses.push({
          path: req.url ?? '',
          method: req.method ?? '',
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        res.writeHead(200).end();
      });
    });
    capture.base = await listenOnLoopback(server);
    capture.server = server;
    return capture;
  }

  /** A pre-signed-looking URL unique to one request. */
  url(requestId: string): string {
    return `${this.base}/cfn-response/${requestId}?X-Amz-Signature=abc`;
  }

  /** The single answer sent for a request (fails the test if there is not exactly one). */
  answerFor(requestId: string): CapturedResponse {
    const found = this.responses.filter((r) => r.path.startsWith(`/cfn-response/${requestId}?`));
    if (found.length !== 1) throw new Error(`expected one answer for ${requestId}, got ${found.length}`);
    return found[0];
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
