import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, type LoggerService } from '@nestjs/common';
import { ERROR_MAPPINGS, errorBody, GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { redactSecrets } from '@warden/observability';
import { UpstreamException } from '@warden/upstream';
import { clientFormatOf } from './client-format';

const STATUS_CODES: ReadonlyArray<readonly [number, GatewayErrorCode]> = [
  [400, GatewayErrorCode.InvalidRequest],
  [401, GatewayErrorCode.Authentication],
  [403, GatewayErrorCode.Permission],
  [404, GatewayErrorCode.NotFound],
  [413, GatewayErrorCode.RequestTooLarge],
  [429, GatewayErrorCode.RateLimited],
  [503, GatewayErrorCode.Unavailable],
];

/**
 * Writes an error in the caller's own API error shape (OpenAI `{error:{...}}` or Anthropic `{type:"error",...}`)
 * with the right status. After the first response byte it only ends the response: in-band stream errors are the
 * stream's business. A client that went away gets nothing. Messages are redacted; unknown errors are logged.
 */
export function writeApiError(
  req: IncomingMessage,
  res: ServerResponse,
  exception: unknown,
  logger: LoggerService,
): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded && !res.destroyed) res.end();
    return;
  }
  if (exception instanceof UpstreamException && exception.failure === 'aborted') {
    res.destroy();
    return;
  }
  let error: GatewayException;
  let status: number;
  if (exception instanceof GatewayException) {
    error = exception;
    status = ERROR_MAPPINGS[error.code].status;
  } else if (exception instanceof HttpException) {
    status = exception.getStatus();
    const code = STATUS_CODES.find(([s]) => s === status)?.[1] ?? GatewayErrorCode.Internal;
    error = new GatewayException(code, exception.message);
  } else {
    logger.error(
      `Unhandled error: ${exception instanceof Error ? redactSecrets(exception.stack ?? exception.message) : 'unknown'}`,
      'Errors',
    );
    error = new GatewayException(GatewayErrorCode.Internal, 'Internal gateway error');
    status = 500;
  }
  const body = JSON.stringify(
    errorBody(clientFormatOf(req), error.code, redactSecrets(error.message), error.param),
  );
  res.writeHead(status, {
    ...error.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
