/**
 * The one log shape, outside Lambda. The handlers log through Powertools Logger
 * (src/handlers/shared/logger.ts): one JSON object per line, `{level, message, timestamp, service, …}`
 * with the level in capitals. The EKS deployer (CodeBuild, and `eks deploy-cluster --verbose`) writes
 * the same keys with this small logger, because its lines go to a sink it is given (CodeBuild's stdout,
 * the CLI's stderr, a test's array) and Powertools Logger writes only to the process's stdout/stderr
 * through a Console of its own.
 */

/** The levels the handlers log at (Powertools Logger knows more). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Keys every line has; fields never replace them. */
const RESERVED = new Set(['level', 'message', 'timestamp', 'service']);

export type LogFields = Readonly<Record<string, unknown>>;

/** The deployer logs no debug lines, so this logger has no level threshold. */
export type LineLogger = Readonly<
  Record<Exclude<LogLevel, 'debug'>, (message: string, fields?: LogFields) => void>
>;

export interface LineLoggerOptions {
  /** Who logs (`service` on every line). */
  readonly service: string;
  /** Receives each line (one JSON object, no newline). */
  readonly write: (line: string) => void;
  /** Milliseconds since the epoch, for `timestamp`. */
  readonly now: () => number;
  /** On every line after the reserved keys (the deployer: cluster and run ID). */
  readonly fields?: LogFields;
}

export function createLineLogger(options: LineLoggerOptions): LineLogger {
  const line =
    (level: Exclude<LogLevel, 'debug'>) =>
    (message: string, fields: LogFields = {}): void => {
      const extra = Object.entries({ ...options.fields, ...fields }).filter(([key]) => !RESERVED.has(key));
      options.write(
        JSON.stringify({
          level: level.toUpperCase(),
          message,
          timestamp: new Date(options.now()).toISOString(),
          service: options.service,
          ...Object.fromEntries(extra),
        }),
      );
    };
  return { info: line('info'), warn: line('warn'), error: line('error') };
}
