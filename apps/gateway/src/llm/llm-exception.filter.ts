import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
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
 * Writes every error of the API routes in the caller's own API error shape (OpenAI `{error:{...}}` or
 * Anthropic `{type:"error",error:{...}}`) with the right status. After the first response byte it only ends
 * the response: in-band stream errors are the stream's business.
 */
@Catch()
export class LlmExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<IncomingMessage>();
    const res = host.switchToHttp().getResponse<ServerResponse>();
    if (res.headersSent || res.destroyed) {
      if (!res.writableEnded && !res.destroyed) res.end();
      return;
    }
    if (exception instanceof UpstreamException && exception.failure === 'aborted') {
      res.destroy();
      return;
    }
    const error = this.toGatewayException(exception);
    const body = JSON.stringify(
      errorBody(clientFormatOf(req), error.code, redactSecrets(error.message), error.param),
    );
    res.writeHead(statusOf(exception, error), {
      ...error.headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  private toGatewayException(exception: unknown): GatewayException {
    if (exception instanceof GatewayException) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = STATUS_CODES.find(([s]) => s === status)?.[1] ?? GatewayErrorCode.Internal;
      return new GatewayException(code, exception.message);
    }
    this.logger.error(
      `Unhandled error: ${exception instanceof Error ? redactSecrets(exception.stack ?? exception.message) : 'unknown'}`,
    );
    return new GatewayException(GatewayErrorCode.Internal, 'Internal gateway error');
  }
}

function statusOf(exception: unknown, error: GatewayException): number {
  if (exception instanceof HttpException) return exception.getStatus();
  return ERROR_MAPPINGS[error.code].status;
}
