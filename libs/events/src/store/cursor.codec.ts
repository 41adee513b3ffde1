/** A position in a list sorted by (`key` desc, `id` desc): the last item of the previous page. */
export interface CursorPosition {
  /** The sort key: an ISO timestamp (`started_at` of calls, `last_at` of sessions). */
  key: string;
  id: string;
}

const SEPARATOR = '|';
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An opaque cursor: base64url of `key|id`. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.key}${SEPARATOR}${position.id}`, 'utf8').toString('base64url');
}

/** The position a cursor names, or undefined when it is not one this store issued. */
export function decodeCursor(cursor: string): CursorPosition | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // The key (a timestamp) never contains the separator; the id may, so split at the first one.
  const at = text.indexOf(SEPARATOR);
  if (at < 0) return undefined;
  const key = text.slice(0, at);
  const id = text.slice(at + 1);
  return ISO_TIMESTAMP.test(key) && id.length > 0 ? { key, id } : undefined;
}
