import { defineEnvConfig } from '@warden/config';
import { z } from 'zod';

/** Logging configuration. */
export const observabilityConfig = defineEnvConfig(
  'observability',
  {
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
      .default('log')
      .describe('Lowest log level written (fatal, error, warn, log, debug, verbose).'),
    LOG_FORMAT: z
      .enum(['json', 'text'])
      .default('text')
      .describe('Log line format: text for people, json for log collectors.'),
  },
  (e) => ({ logLevel: e.LOG_LEVEL, logFormat: e.LOG_FORMAT }),
);
