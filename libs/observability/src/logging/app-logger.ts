import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { TraceContextLogger } from './trace-context.logger';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Options of the process logger. */
export interface AppLoggerOptions {
  level: LogLevel;
  format: 'json' | 'text';
}

/**
 * Builds the process logger: Nest's console logger, one JSON object per line when `format` is json, with the
 * active trace's ids on each line (see {@link TraceContextLogger}). Request and response bodies and credentials are
 * never passed to it (see {@link redactHeaders}).
 */
export function createAppLogger(options: AppLoggerOptions): ConsoleLogger {
  const upTo = LEVELS.indexOf(options.level);
  return new TraceContextLogger({
    logLevels: LEVELS.slice(0, upTo + 1),
    json: options.format === 'json',
    colors: options.format === 'text' && process.stdout.isTTY,
    prefix: 'Warden',
  });
}
