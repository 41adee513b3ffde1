import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import {
  GatewayErrorCode,
  GatewayException,
  type CallEndpoint,
  type IncomingCall,
} from '@warden/control-plane';
import { isJsonObject, parseJsonBytes, type JsonObject, type WireFormat } from '@warden/llm';
import type { z } from 'zod';
import { ClientAuthService } from '../auth/client-auth.service';
import { gatewayConfig } from '../config/gateway.config';
import { RateLimitService, type RateLimitRouteKind } from '../rate-limit/rate-limit.service';

const SESSION_HEADERS = ['x-claude-code-session-id', 'x-session-id'] as const;

/**
 * The edge of the LLM routes: authenticate (before reading anything), read the body within the size limit,
 * parse it once, check the few fields routing needs. Everything else in the body is the provider's business.
 */
@Injectable()
export class LlmIngressService {
  constructor(
    @Inject(ClientAuthService) private readonly auth: ClientAuthService,
    @Inject(gatewayConfig.KEY) private readonly cfg: ConfigType<typeof gatewayConfig>,
    @Inject(RateLimitService) private readonly rateLimit: RateLimitService,
  ) {}

  /**
   * Turns an HTTP request into an {@link IncomingCall}, or throws a {@link GatewayException} (4xx). The client's
   * rate limit is taken between authentication and reading the body (its headers are set on `res`).
   */
  async accept(
    req: IncomingMessage,
    clientFormat: WireFormat,
    endpoint: CallEndpoint,
    schema: z.ZodType,
    res: ServerResponse,
    limitKind: RateLimitRouteKind,
  ): Promise<IncomingCall> {
    const identity = this.auth.authenticate(req);
    if (this.rateLimit.enabled) await this.rateLimit.admit(req, res, limitKind, identity.keyId);
    const rawBody = await this.readBody(req);
    const request = parseJsonBody(rawBody, schema);
    this.checkCounts(request);
    const url = req.url ?? '';
    const q = url.indexOf('?');
    return {
      clientFormat,
      endpoint,
      query: q >= 0 ? url.slice(q) : '',
      headers: req.headers,
      rawBody,
      request,
      model: request.model as string,
      stream: request.stream === true,
      credential: identity.credential,
      credentialUnverified: identity.unverified,
      keyId: identity.keyId,
      sessionId: sessionIdOf(req),
    };
  }

  /** Bounds the work a single request can ask for: message and tool counts (MAX_MESSAGES, MAX_TOOLS). */
  private checkCounts(request: JsonObject): void {
    const limits = [
      ['messages', this.cfg.maxMessages, 'MAX_MESSAGES'],
      ['tools', this.cfg.maxTools, 'MAX_TOOLS'],
    ] as const;
    for (const [field, limit, variable] of limits) {
      const value = request[field];
      if (Array.isArray(value) && value.length > limit) {
        throw new GatewayException(
          GatewayErrorCode.InvalidRequest,
          `${field} has ${value.length} entries; this gateway accepts at most ${limit} (${variable})`,
          { param: field },
        );
      }
    }
  }

  /**
   * The request body, read with plain listeners (an async iterator over the request costs a stream iterator, a
   * promise per chunk and an end-of-stream watcher on every call). Over MAX_REQUEST_BYTES: a 413, without buffering
   * the rest. A client that leaves before the end: rejected like Node's premature close.
   */
  private readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.cfg.maxRequestBytes;
    const tooLarge = (): GatewayException => {
      // Stop reading; the connection closes after the 413 so the rest of the body is never buffered.
      req.resume();
      return new GatewayException(
        GatewayErrorCode.RequestTooLarge,
        `Request body exceeds the limit of ${limit} bytes (MAX_REQUEST_BYTES)`,
        { headers: { connection: 'close' } },
      );
    };
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > limit) return Promise.reject(tooLarge());
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const stop = (): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > limit) {
          stop();
          reject(tooLarge());
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = (): void => {
        stop();
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      };
      const onError = (error: Error): void => {
        stop();
        reject(error);
      };
      const onClose = (): void => {
        stop();
        reject(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
    });
  }
}

function sessionIdOf(req: IncomingMessage): string | undefined {
  for (const name of SESSION_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

/**
 * Parses and shape-checks a JSON body (its bytes remembered as its source: the history serializes a large request
 * again from them, on its writer thread); every failure is a 400 naming the field.
 */
export function parseJsonBody(raw: Buffer, schema: z.ZodType): JsonObject {
  let parsed: unknown;
  try {
    parsed = parseJsonBytes(raw);
  } catch (error) {
    const detail = error instanceof Error ? error.message : 'parse error';
    throw new GatewayException(GatewayErrorCode.InvalidRequest, `Request body is not valid JSON: ${detail}`);
  }
  if (!isJsonObject(parsed)) {
    throw new GatewayException(GatewayErrorCode.InvalidRequest, 'Request body must be a JSON object');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue?.path.join('.') ?? '';
    const message = issue?.message ?? 'invalid request';
    throw new GatewayException(
      GatewayErrorCode.InvalidRequest,
      message.startsWith(param) ? message : `${param}: ${message}`,
      {
        param,
      },
    );
  }
  return parsed;
}
