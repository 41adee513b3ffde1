import type { OutgoingHttpHeaders } from 'node:http';
import { GatewayErrorCode } from './gateway-error-code';

/** Options of a {@link GatewayException}. */
export interface GatewayExceptionOptions {
  /** The request field at fault (OpenAI's `param`). */
  param?: string;
  /** Extra response headers (`retry-after`). */
  headers?: OutgoingHttpHeaders;
  cause?: unknown;
}

/**
 * A call failed for a reason the client should be told, before any response byte was written. The API's
 * exception filter writes it in that API's error shape; the message must never contain a secret.
 */
export class GatewayException extends Error {
  readonly param: string | undefined;
  readonly headers: OutgoingHttpHeaders;

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options: GatewayExceptionOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'GatewayException';
    this.param = options.param;
    this.headers = options.headers ?? {};
  }
}
