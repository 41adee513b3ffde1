import { randomUUID } from 'node:crypto';
import type { ServerResponse, OutgoingHttpHeaders } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import {
  anthropicRequestToOpenAI,
  anthropicResponseToOpenAI,
  ConversionError,
  isJsonObject,
  MessageAssembler,
  messageToEvents,
  openAIRequestToAnthropic,
  openAIResponseToAnthropic,
  type AnthropicRequest,
  type AnthropicResponse,
  type AnthropicStreamEvent,
  type JsonObject,
  type OpenAIRequest,
  type OpenAIResponse,
} from '@warden/llm';
import {
  buildUpstreamHeaders,
  clientResponseHeaders,
  ModelRouter,
  UpstreamClient,
  upstreamConfig,
  UpstreamException,
  upstreamFormatFor,
  type Credential,
  type UpstreamResponse,
} from '@warden/upstream';
import type { CallContext, IncomingCall } from './call/call-context';
import { readBodyWithin } from './call/read-body';
import { controlPlaneConfig } from './control-plane.config';
import { convertUpstreamError } from './errors/error-bodies';
import { GatewayErrorCode } from './errors/gateway-error-code';
import { GatewayException } from './errors/gateway.exception';
import { PolicyStage, type StreamTransform } from './policy/policy-stage.port';
import { AnthropicPassthroughRelay, OpenAIPassthroughRelay } from './stream/passthrough-relays';
import { CLIENT_GONE, pumpStream } from './stream/stream-pump';
import { TranscodingRelay } from './stream/transcoding-relay';
import type { FrameRelay } from './stream/frame-relay';

/** Response header carrying the gateway's id of the call. */
export const CALL_ID_HEADER = 'x-warden-call-id';

/** Largest upstream error body read back (errors are small; anything larger is cut). */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

/**
 * One call's pipeline: route -> request policies -> upstream (native or converted) -> response policies ->
 * the client's wire format. Errors before the first response byte are thrown as {@link GatewayException}s for
 * the API's exception filter; after it they are written in-band.
 */
@Injectable()
export class ControlPlaneService {
  private readonly logger = new Logger('ControlPlane');

  constructor(
    @Inject(ModelRouter) private readonly router: ModelRouter,
    @Inject(UpstreamClient) private readonly upstream: UpstreamClient,
    @Inject(PolicyStage) private readonly policies: PolicyStage,
    @Inject(upstreamConfig.KEY) private readonly upstreamCfg: ConfigType<typeof upstreamConfig>,
    @Inject(controlPlaneConfig.KEY) private readonly cfg: ConfigType<typeof controlPlaneConfig>,
  ) {}

  /** Serves one LLM call, writing the response to `res`. */
  async handle(call: IncomingCall, res: ServerResponse): Promise<void> {
    const ctx = this.createContext(call, res);
    const deadline = setTimeout(() => {
      ctx.abort(new UpstreamException('timeout', ctx.route.provider.name, 'request timeout reached'));
    }, ctx.route.timeouts.totalMs);
    try {
      const request = this.policies.hasRequestHooks
        ? await this.policies.onRequest(ctx, call.request)
        : call.request;
      const body = this.upstreamBody(ctx, request, request !== call.request);
      const upstream = await this.send(ctx, body);
      res.setHeader(CALL_ID_HEADER, ctx.callId);
      if (upstream.status >= 400) return await this.relayError(ctx, upstream, res);
      const isSse = String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (call.stream && isSse) return await this.relayStream(ctx, upstream, res);
      if (isSse) {
        upstream.body.destroy();
        throw new GatewayException(
          GatewayErrorCode.UpstreamBadResponse,
          'upstream streamed a non-streaming call',
        );
      }
      await this.relayWhole(ctx, upstream, res);
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Forwards `POST /v1/messages/count_tokens` to a provider that speaks the Anthropic API. */
  async countTokens(call: IncomingCall, res: ServerResponse): Promise<void> {
    const ctx = this.createContext(call, res);
    if (ctx.upstreamFormat !== 'anthropic') {
      throw new GatewayException(
        GatewayErrorCode.InvalidRequest,
        `count_tokens is only available for models served over the Anthropic API; ${call.model} is not`,
        { param: 'model' },
      );
    }
    const body = this.upstreamBody(ctx, call.request, false);
    const upstream = await this.send(ctx, body, 'count-tokens');
    const data = await this.readWhole(upstream, MAX_ERROR_BODY_BYTES);
    res.writeHead(upstream.status, {
      ...clientResponseHeaders(upstream.headers, true),
      'content-length': data.length,
      [CALL_ID_HEADER]: ctx.callId,
    });
    res.end(data);
  }

  private createContext(call: IncomingCall, res: ServerResponse): CallContext {
    const route = this.router.resolve(call.model);
    if (route === undefined) {
      throw new GatewayException(
        GatewayErrorCode.ModelNotFound,
        `The model '${call.model}' is not served by this gateway`,
        {
          param: 'model',
        },
      );
    }
    const controller = new AbortController();
    const callId = randomUUID();
    const ctx: CallContext = {
      ...call,
      callId,
      sessionId: call.sessionId ?? callId,
      route,
      upstreamFormat: upstreamFormatFor(route.provider, call.clientFormat),
      credential: call.credential ?? providerCredential(route.provider.apiKey),
      signal: controller.signal,
      abort: (reason: unknown) => {
        if (!controller.signal.aborted) controller.abort(reason);
      },
      startedAt: performance.now(),
    };
    res.once('close', () => {
      if (!res.writableFinished) ctx.abort(CLIENT_GONE);
    });
    return ctx;
  }

  private upstreamBody(ctx: CallContext, request: JsonObject, rewritten: boolean): string | Buffer {
    const sameFormat = ctx.clientFormat === ctx.upstreamFormat;
    const renamed = ctx.route.upstreamModel !== ctx.model;
    if (sameFormat && !rewritten && !renamed) return ctx.rawBody;
    const withModel = renamed ? { ...request, model: ctx.route.upstreamModel } : request;
    if (sameFormat) return JSON.stringify(withModel);
    try {
      const converted =
        ctx.clientFormat === 'openai'
          ? openAIRequestToAnthropic(withModel as OpenAIRequest, {
              defaultMaxTokens: this.upstreamCfg.anthropicDefaultMaxTokens,
            })
          : anthropicRequestToOpenAI(withModel as AnthropicRequest);
      return JSON.stringify(converted);
    } catch (error) {
      if (error instanceof ConversionError) {
        throw new GatewayException(GatewayErrorCode.InvalidRequest, error.message, {
          param: error.param,
          cause: error,
        });
      }
      throw error;
    }
  }

  private async send(
    ctx: CallContext,
    body: string | Buffer,
    endpoint: 'chat' | 'messages' | 'count-tokens' = ctx.upstreamFormat === 'openai' ? 'chat' : 'messages',
  ): Promise<UpstreamResponse> {
    const headers = buildUpstreamHeaders(ctx.headers, {
      clientFormat: ctx.clientFormat,
      upstreamFormat: ctx.upstreamFormat,
      credential: ctx.credential,
      anthropicVersion: this.upstreamCfg.anthropicVersion,
    });
    try {
      return await this.upstream.send({
        provider: ctx.route.provider,
        format: ctx.upstreamFormat,
        endpoint,
        query: ctx.upstreamFormat === 'anthropic' && ctx.clientFormat === 'anthropic' ? ctx.query : '',
        headers,
        body,
        signal: ctx.signal,
        timeouts: ctx.route.timeouts,
      });
    } catch (error) {
      if (!(error instanceof UpstreamException)) throw error;
      if (error.failure === 'connect' || error.failure === 'reset') {
        throw new GatewayException(GatewayErrorCode.UpstreamUnreachable, error.message, { cause: error });
      }
      if (error.failure === 'aborted') throw error;
      throw new GatewayException(GatewayErrorCode.UpstreamTimeout, error.message, { cause: error });
    }
  }

  private async readWhole(upstream: UpstreamResponse, limit: number): Promise<Buffer> {
    const data = await readBodyWithin(upstream.body, limit);
    if (data === undefined) {
      throw new GatewayException(
        GatewayErrorCode.UpstreamBadResponse,
        `upstream response is larger than the limit of ${limit} bytes`,
      );
    }
    return data;
  }

  private async relayError(ctx: CallContext, upstream: UpstreamResponse, res: ServerResponse): Promise<void> {
    const data = await this.readWhole(upstream, MAX_ERROR_BODY_BYTES);
    const headers: OutgoingHttpHeaders = clientResponseHeaders(
      upstream.headers,
      ctx.clientFormat === ctx.upstreamFormat,
    );
    let out: Buffer | string = data;
    if (ctx.clientFormat !== ctx.upstreamFormat) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString('utf8'));
      } catch {
        parsed = { error: { message: data.toString('utf8').slice(0, 500) } };
      }
      out = JSON.stringify(
        convertUpstreamError(parsed, upstream.status, ctx.upstreamFormat, ctx.clientFormat),
      );
      headers['content-type'] = 'application/json';
    }
    headers['content-length'] = Buffer.byteLength(out);
    res.writeHead(upstream.status, headers);
    res.end(out);
    this.logger.debug(`call ${ctx.callId} ${ctx.model}: upstream error ${upstream.status}`);
  }

  private async relayStream(
    ctx: CallContext,
    upstream: UpstreamResponse,
    res: ServerResponse,
  ): Promise<void> {
    res.writeHead(200, {
      ...clientResponseHeaders(upstream.headers, false),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const outcome = await pumpStream(ctx, upstream, res, this.createRelay(ctx), {
      maxFrameBytes: this.cfg.maxSseFrameBytes,
      firstTokenMs: ctx.route.timeouts.firstTokenMs,
    });
    this.logger.debug(
      `call ${ctx.callId} ${ctx.model} stream ${outcome.status} ttft=${outcome.firstTokenMs?.toFixed(1) ?? '-'}ms`,
    );
  }

  private createRelay(ctx: CallContext): FrameRelay {
    const sameFormat = ctx.clientFormat === ctx.upstreamFormat;
    if (sameFormat && !this.policies.hasResponseHooks) {
      return ctx.clientFormat === 'anthropic'
        ? new AnthropicPassthroughRelay()
        : new OpenAIPassthroughRelay();
    }
    const streamOptions = ctx.request.stream_options;
    const includeUsage = isJsonObject(streamOptions) && streamOptions.include_usage === true;
    return new TranscodingRelay(
      ctx.upstreamFormat,
      ctx.clientFormat,
      this.policies.createStreamTransform(ctx),
      {
        includeUsage,
      },
    );
  }

  private async relayWhole(ctx: CallContext, upstream: UpstreamResponse, res: ServerResponse): Promise<void> {
    const data = await this.readWhole(upstream, this.cfg.maxResponseBytes);
    const sameFormat = ctx.clientFormat === ctx.upstreamFormat;
    const headers = clientResponseHeaders(upstream.headers, sameFormat);
    let out: Buffer | string = data;
    if (!sameFormat || this.policies.hasResponseHooks) {
      const parsed = parseUpstreamJson(data);
      out = JSON.stringify(await this.finalResponse(ctx, parsed));
      headers['content-type'] = 'application/json';
    }
    headers['content-length'] = Buffer.byteLength(out);
    res.writeHead(upstream.status, headers);
    res.end(out);
  }

  private async finalResponse(ctx: CallContext, upstream: JsonObject): Promise<JsonObject> {
    let message =
      ctx.upstreamFormat === 'anthropic'
        ? (upstream as AnthropicResponse)
        : openAIResponseToAnthropic(upstream as OpenAIResponse);
    if (this.policies.hasResponseHooks) {
      message = await runTransform(this.policies.createStreamTransform(ctx), messageToEvents(message));
    }
    if (ctx.clientFormat === 'anthropic') return message;
    const converted = anthropicResponseToOpenAI(message);
    if (ctx.upstreamFormat !== 'openai') return converted;
    // Same-format OpenAI behind a response policy: keep every upstream field, replace what policies may change.
    const original = upstream as OpenAIResponse;
    const choice = converted.choices[0];
    return {
      ...original,
      choices: choice === undefined ? original.choices : [{ ...original.choices[0], ...choice }],
    };
  }
}

function providerCredential(apiKey: string | undefined): Credential | undefined {
  return apiKey === undefined ? undefined : { scheme: 'x-api-key', value: apiKey };
}

function parseUpstreamJson(data: Buffer): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (error) {
    throw new GatewayException(
      GatewayErrorCode.UpstreamBadResponse,
      'upstream returned a body that is not JSON',
      {
        cause: error,
      },
    );
  }
  if (!isJsonObject(parsed)) {
    throw new GatewayException(
      GatewayErrorCode.UpstreamBadResponse,
      'upstream returned a JSON body that is not an object',
    );
  }
  return parsed;
}

async function runTransform(
  transform: StreamTransform,
  events: AnthropicStreamEvent[],
): Promise<AnthropicResponse> {
  const assembler = new MessageAssembler();
  for (const event of events) {
    for (const out of await transform.push(event)) assembler.push(out);
  }
  for (const out of await transform.end()) assembler.push(out);
  return assembler.message;
}
