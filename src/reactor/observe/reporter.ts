import type { ConnectionRecord } from '../connection/connection-record.js';
import type { LogLevel } from '../../api/options.js';
import { logs } from '../options.js';

/**
 * Where everything that must not reach the user's process as an exception
 * goes: the `error` handler, else the log. And the log itself, filtered by
 * level once per line, with `debug` cached for the hot paths that check it.
 */
export class Reporter {
  /** True at logLevel 'debug': every frame in and out is logged. */
  readonly debug: boolean;

  constructor(
    private readonly level: LogLevel,
    private readonly logger: (level: LogLevel, message: string) => void,
    private readonly onError: ((error: Error, conn: ConnectionRecord | undefined) => void) | undefined,
  ) {
    this.debug = logs(level, 'debug');
  }

  /** Does a line at `level` get written? (Check before building an expensive message.) */
  logs(level: LogLevel): boolean {
    return logs(this.level, level);
  }

  log(level: LogLevel, message: string): void {
    if (logs(this.level, level)) this.logger(level, message);
  }

  /** Reports an error to the `error` handler, or logs it; a throwing error handler is logged too. */
  report(error: unknown, conn: ConnectionRecord | undefined): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.onError !== undefined) {
      try {
        this.onError(err, conn);
        return;
      } catch (secondary) {
        this.log('error', `the error handler threw: ${(secondary as Error)?.stack ?? String(secondary)}`);
      }
    }
    this.log('error', err.stack ?? err.message);
  }
}
