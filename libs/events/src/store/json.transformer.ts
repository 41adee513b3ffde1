import type { ValueTransformer } from 'typeorm';

/**
 * Stores any JSON value in a `text` column, identically on PostgreSQL and SQLite (`simple-json` would do too, but
 * its NULL handling differs between drivers). `undefined` and `null` are stored as SQL NULL.
 */
export const jsonTransformer: ValueTransformer = {
  to: (value: unknown): string | null =>
    value === undefined || value === null ? null : JSON.stringify(value),
  from: (value: unknown): unknown => (typeof value === 'string' ? (JSON.parse(value) as unknown) : null),
};
