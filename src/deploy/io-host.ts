import type { IIoHost, IoMessage, IoRequest } from '@aws-cdk/toolkit-lib';
import type { Progress } from './progress.js';

/** Asks the person at the terminal; resolves false when nobody can answer. */
export type Confirm = (question: string) => Promise<boolean>;

export interface IoHostOptions {
  readonly progress: Progress;
  /** Removes secret values from any text before it is shown. */
  readonly scrub: (text: string) => string;
  /** Answers the toolkit's "deploy these security-sensitive changes?" question. */
  readonly approveDeploy: (motivation: string, diff: string) => Promise<boolean>;
  /** Scrubbed text of every message, for `--debug` and tests. */
  readonly transcript?: string[];
}

/** Messages shown as progress lines (besides errors, warnings and results). */
const LINE_CODES = new Set([
  'CDK_TOOLKIT_I5100', // deploying stack x (1/1)
  'CDK_TOOLKIT_I5000', // deployment time
  'CDK_TOOLKIT_I5220', // publishing asset
  'CDK_TOOLKIT_I5900', // deployed
  'CDK_TOOLKIT_I7100', // destroying stack
  'CDK_TOOLKIT_I7900', // destroyed
]);
const ACTIVITY_CODE = 'CDK_TOOLKIT_I5502';
const DEPLOY_CONFIRM_CODE = 'CDK_TOOLKIT_I5060';
const DESTROY_CONFIRM_CODE = 'CDK_TOOLKIT_I7010';

interface ActivityData {
  readonly event?: {
    readonly ResourceStatus?: string;
    readonly ResourceType?: string;
    readonly LogicalResourceId?: string;
    readonly ResourceStatusReason?: string;
  };
  readonly progress?: { readonly completed?: number; readonly total?: number };
}

/**
 * The toolkit's IoHost for `deploy` / `destroy`: turns toolkit messages into concise progress,
 * scrubs secrets out of every text, and answers the toolkit's questions. Destroy confirmation is
 * asked by the command before the toolkit runs, so the toolkit's own question is answered yes.
 */
export class ProgressIoHost implements IIoHost {
  constructor(private readonly options: IoHostOptions) {}

  notify(msg: IoMessage<unknown>): Promise<void> {
    const { progress, scrub } = this.options;
    const text = scrub(stripAnsi(msg.message)).trim();
    this.options.transcript?.push(text);
    if (msg.code === ACTIVITY_CODE) {
      const data = msg.data as ActivityData | undefined;
      const ev = data?.event;
      const summary = ev
        ? scrub(
            [
              ev.ResourceStatus,
              ev.ResourceType,
              ev.LogicalResourceId,
              ev.ResourceStatusReason ? `(${ev.ResourceStatusReason})` : '',
            ]
              .filter(Boolean)
              .join(' '),
          )
        : text;
      progress.step(data?.progress?.completed ?? 0, data?.progress?.total, summary);
      return Promise.resolve();
    }
    if (text === '') return Promise.resolve();
    if (msg.level === 'error') progress.line(`error: ${text}`);
    else if (msg.level === 'warn') progress.line(`warning: ${text}`);
    else if (msg.level === 'result' || (msg.code !== undefined && LINE_CODES.has(msg.code)))
      progress.line(text);
    return Promise.resolve();
  }

  async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
    const text = this.options.scrub(stripAnsi(msg.message));
    this.options.transcript?.push(text);
    if (msg.code === DEPLOY_CONFIRM_CODE) {
      const data = msg.data as { motivation?: string } | undefined;
      return (await this.options.approveDeploy(data?.motivation ?? 'Stack includes updates', text)) as T;
    }
    if (msg.code === DESTROY_CONFIRM_CODE) return true as T;
    return msg.defaultResponse;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
