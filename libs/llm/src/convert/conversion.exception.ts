/**
 * Thrown by the converters for input that cannot be expressed in the other API (for example `n > 1`,
 * a server tool, an unsupported content part). The gateway maps it to a 400 in the client's error shape;
 * `param` names the offending field with the client's own path (`messages[2].content[0]`).
 */
export class ConversionError extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'ConversionError';
  }
}
