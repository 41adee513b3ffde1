/** A JSON object whose fields we do not all know: unknown fields must survive every same-format round trip. */
export type JsonObject = { [key: string]: unknown };

/** True when `value` is a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
