import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { writeApiError } from './api-error.writer';

/** Nest's side of {@link writeApiError}: errors of routes served by Nest controllers (models, health, 404s). */
@Catch()
export class LlmExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    writeApiError(
      http.getRequest<IncomingMessage>(),
      http.getResponse<ServerResponse>(),
      exception,
      this.logger,
    );
  }
}
