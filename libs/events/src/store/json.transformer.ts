import type { ValueTransformer } from 'typeorm';

/** A JSON value serialized already (by the main thread, for the writer thread): stored as its text, as it is. */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * Stores any JSON value in a `text` column, identically on PostgreSQL and SQLite (`simple-json` would do too, but
 * its NULL handling differs between drivers). `undefined` and `null` are stored as SQL NULL.
 */
export const jsonTransformer: ValueTransformer = {
  to: (value: unknown): string | null =>
    value === undefined || value === null
      ? null
      : value instanceof JsonText
        ? value.text
        : JSON.stringify(value),
  from: (value: unknown): unknown => (typeof value === 'string' ? (JSON.parse(value) as unknown) : null),
};
