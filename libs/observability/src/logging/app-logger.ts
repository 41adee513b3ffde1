import { ConsoleLogger, type LogLevel } from '@nestjs/common';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Options of the process logger. */
export interface AppLoggerOptions {
  level: LogLevel;
  format: 'json' | 'text';
}

/**
 * Builds the process logger: Nest's console logger, one JSON object per line when `format` is json.
 * Request and response bodies and credentials are never passed to it (see {@link redactHeaders}).
 */
export function createAppLogger(options: AppLoggerOptions): ConsoleLogger {
  const upTo = LEVELS.indexOf(options.level);
  return new ConsoleLogger({
    logLevels: LEVELS.slice(0, upTo + 1),
    json: options.format === 'json',
    colors: options.format === 'text' && process.stdout.isTTY,
    prefix: 'Warden',
  });
}
