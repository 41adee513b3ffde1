import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import type { Span } from '@opentelemetry/api';
import { EVENT_TYPES, EventPublisher, INSTANCE_ID, isoNow, uuidv7 } from '@warden/events';
import {
  anthropicRequestToOpenAI,
  anthropicResponseToOpenAI,
  ConversionError,
  isJsonObject,
  messageToEvents,
  openAIRequestToAnthropic,
  openAIResponseToAnthropic,
  parseJsonBytes,
  rememberJsonText,
  withStringMember,
  type AnthropicRequest,
  type AnthropicResponse,
  type JsonObject,
  type OpenAIRequest,
  type OpenAIResponse,
} from '@warden/llm';
import { PolicyEngine, PolicyFailure, type ChainRun } from '@warden/policy';
import {
  buildUpstreamHeaders,
  clientResponseHeaders,
  ModelRouter,
  UpstreamCircuitOpenException,
  UpstreamClient,
  upstreamConfig,
  UpstreamException,
  upstreamFormatFor,
  type Credential,
  type UpstreamResponse,
} from '@warden/upstream';
import type { CallContext, IncomingCall } from './call/call-context';
import { CallObserver, CLIENT_CLOSED_STATUS, NOOP_CALL_OBSERVER } from './call/call-observer';
import { CallRecorder } from './call/call-recorder';
import { ServedCall } from './call/served-call';
import {
  endCallSpan,
  endStreamSpan,
  endUpstreamSpan,
  failSpan,
  recordCompletion,
  recordError,
  recordUpstreamRetry,
  startCallSpan,
  startChildSpan,
  startUpstreamSpan,
  STREAM_SPAN,
  withActiveSpan,
} from './call/call-tracing';
import { controlPlaneConfig } from './control-plane.config';
import { convertUpstreamError } from './errors/error-bodies';
import { ERROR_MAPPINGS, GatewayErrorCode } from './errors/gateway-error-code';
import { GatewayException } from './errors/gateway.exception';
import type { CallUsage, FrameRelay } from './stream/frame-relay';
import { AnthropicPassthroughRelay, OpenAIPassthroughRelay } from './stream/passthrough-relays';
import { CLIENT_GONE, pumpStream } from './stream/stream-pump';
import { createClientSink, TranscodingRelay } from './stream/transcoding-relay';

/** Response header carrying the gateway's id of the call. */
export const CALL_ID_HEADER = 'x-warden-call-id';

/** Abort reason once a call is over: releases anything still tied to its signal. */
const CALL_FINISHED = 'call finished';

const MS_PER_SECOND = 1000;

/** Largest upstream error body read back (errors are small; anything larger is cut). */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

/** Status codes a request policy may reject with, mapped to domain codes. */
const REJECT_CODES: ReadonlyMap<number, GatewayErrorCode> = new Map([
  [400, GatewayErrorCode.InvalidRequest],
  [401, GatewayErrorCode.Authentication],
  [403, GatewayErrorCode.Permission],
  [404, GatewayErrorCode.NotFound],
  [413, GatewayErrorCode.RequestTooLarge],
  [429, GatewayErrorCode.RateLimited],
]);

/**
 * One call's pipeline: route -> request policies -> upstream (native or converted) -> response policies ->
 * the client's wire format. Errors before the first response byte are thrown as {@link GatewayException}s for
 * the API's exception writer; after it they are written in-band. All per-call state lives in the call's
 * {@link CallContext} and chain run, dropped when the call ends; `inFlight` counts calls, nothing else grows.
 */
@Injectable()
export class ControlPlaneService {
  private readonly logger = new Logger('ControlPlane');
  /** Calls in flight: counted for readiness and metrics, and aborted together when a drain runs out of time. */
  private readonly calls = new Set<CallContext>();
  /** Told about every call (metrics); a no-op unless the app provides a {@link CallObserver}. */
  private readonly observer: CallObserver;

  constructor(
    @Inject(ModelRouter) private readonly router: ModelRouter,
    @Inject(UpstreamClient) private readonly upstream: UpstreamClient,
    @Inject(PolicyEngine) private readonly policies: PolicyEngine,
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(upstreamConfig.KEY) private readonly upstreamCfg: ConfigType<typeof upstreamConfig>,
    @Inject(controlPlaneConfig.KEY) private readonly cfg: ConfigType<typeof controlPlaneConfig>,
    @Optional() @Inject(CallObserver) observer: CallObserver | null = null,
  ) {
    this.observer = observer ?? NOOP_CALL_OBSERVER;
  }

  /** Calls being served right now. */
  get inFlight(): number {
    return this.calls.size;
  }

  /**
   * Aborts every call in flight with `reason` (graceful shutdown after its grace period): streams end with the
   * protocol's in-band error, calls still waiting for headers answer with the reason's status. Returns how many.
   */
  abortAll(reason: GatewayException): number {
    const count = this.calls.size;
    for (const ctx of this.calls) ctx.abort(reason);
    return count;
  }

  /** Serves one LLM call, writing the response to `res`. */
  async handle(call: IncomingCall, res: ServerResponse): Promise<void> {
    const ctx = this.createContext(call, res);
    // With tracing on, the call's span is active while it is served: log lines carry its trace id.
    return withActiveSpan(ctx.span, () => this.serve(ctx, res));
  }

  private async serve(ctx: CallContext, res: ServerResponse): Promise<void> {
    const run = this.policies.current().begin(ctx, (type, data) => {
      this.observer.policyEvent(ctx, type);
      this.publish(ctx, type, data);
    });
    this.observer.callStarted(ctx);
    let failure: unknown;
    const release = this.track(ctx);
    this.publish(ctx, 'call.started', {
      model: ctx.model,
      provider: ctx.route.provider.name,
      clientFormat: ctx.clientFormat,
      upstreamFormat: ctx.upstreamFormat,
      stream: ctx.stream,
      keyId: ctx.keyId ?? null,
    });
    this.publish(ctx, EVENT_TYPES.requestReceived, { request: ctx.request });
    try {
      res.setHeader(CALL_ID_HEADER, ctx.callId);
      const request = await this.requestPhase(ctx, run, res);
      if (request === undefined) return this.completed(ctx, 200, {});
      const body = this.upstreamBody(ctx, request.body, request.rewritten);
      this.publish(
        ctx,
        EVENT_TYPES.requestForwarded,
        body.forwarded === ctx.request
          ? { format: ctx.upstreamFormat, unchanged: true }
          : { request: body.forwarded, format: ctx.upstreamFormat },
      );
      const sentAt = performance.now();
      const upstream = await this.tracedSend(ctx, body.payload);
      this.observer.upstreamResponded(ctx, upstream.status, performance.now() - sentAt);
      if (upstream.status >= 400) {
        await this.relayError(ctx, upstream, res);
        return this.completed(ctx, upstream.status, {});
      }
      const isSse = String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (ctx.stream && isSse) return await this.relayStream(ctx, run, upstream, res);
      if (isSse) {
        upstream.body.destroy();
        throw new GatewayException(
          GatewayErrorCode.UpstreamBadResponse,
          'upstream streamed a non-streaming call',
        );
      }
      await this.relayWhole(ctx, run, upstream, res);
    } catch (error) {
      failure = error;
      recordError(ctx.span, error);
      this.publish(ctx, 'call.failed', { error: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      release();
      this.observer.callEnded(ctx, statusOf(res, failure), performance.now() - ctx.startedAt);
      // Whatever still waits on this call (a judge after an upstream error event) stops now.
      ctx.abort(CALL_FINISHED);
      endCallSpan(ctx.span, run.spentMs());
    }
  }

  /** Forwards `POST /v1/messages/count_tokens` to a provider that speaks the Anthropic API. */
  async countTokens(call: IncomingCall, res: ServerResponse): Promise<void> {
    const ctx = this.createContext(call, res);
    // Like a call: bounded by the route's total deadline, and ended by a drain that runs out of time.
    const release = this.track(ctx);
    try {
      if (ctx.upstreamFormat !== 'anthropic') {
        throw new GatewayException(
          GatewayErrorCode.InvalidRequest,
          `count_tokens is only available for models served over the Anthropic API; ${call.model} is not`,
          { param: 'model' },
        );
      }
      await this.forwardCountTokens(ctx, res);
    } finally {
      release();
      ctx.span.end();
    }
  }

  /**
   * Counts `ctx` in flight (a drain that runs out of time aborts it) and aborts it at the route's total deadline;
   * returns what ends both, to call when it is over.
   */
  private track(ctx: CallContext): () => void {
    this.calls.add(ctx);
    const deadline = setTimeout(() => {
      ctx.abort(new UpstreamException('timeout', ctx.route.provider.name, 'request timeout reached'));
    }, ctx.route.timeouts.totalMs);
    return () => {
      clearTimeout(deadline);
      this.calls.delete(ctx);
    };
  }

  private async forwardCountTokens(ctx: CallContext, res: ServerResponse): Promise<void> {
    const body = this.upstreamBody(ctx, ctx.request, false);
    const upstream = await this.tracedSend(ctx, body.payload, 'count-tokens');
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
        { param: 'model' },
      );
    }
    // Only a provider that checks the caller's credential may serve a caller let in on it alone.
    if (call.credentialUnverified === true && route.provider.acceptsAnyCredential === true) {
      throw new GatewayException(GatewayErrorCode.Authentication, 'Invalid API key');
    }
    const callId = uuidv7();
    const upstreamFormat = upstreamFormatFor(route.provider, call.clientFormat);
    const ctx = new ServedCall(call, {
      callId,
      route,
      upstreamFormat,
      credential: call.credential ?? providerCredential(route.provider.apiKey),
      span: startCallSpan(call, callId, route, upstreamFormat, this.cfg.traceClientContext),
    });
    res.once('close', () => {
      if (!res.writableFinished) ctx.abort(CLIENT_GONE);
    });
    return ctx;
  }

  private publish(ctx: CallContext, type: string, data: JsonObject): void {
    this.events.publish({
      id: uuidv7(),
      callId: ctx.callId,
      sessionId: ctx.sessionId,
      type,
      at: isoNow(),
      instance: INSTANCE_ID,
      data,
    });
  }

  private completed(ctx: CallContext, status: number, usage: CallUsage, firstTokenMs?: number): void {
    recordCompletion(ctx.span, status, usage);
    if (usage.inputTokens !== undefined || usage.outputTokens !== undefined) {
      this.observer.usage(ctx, usage.inputTokens, usage.outputTokens);
    }
    const durationMs = performance.now() - ctx.startedAt;
    const data: JsonObject = { status, durationMs };
    if (firstTokenMs !== undefined) data.firstTokenMs = firstTokenMs;
    if (usage.inputTokens !== undefined) data.inputTokens = usage.inputTokens;
    if (usage.outputTokens !== undefined) data.outputTokens = usage.outputTokens;
    this.publish(ctx, 'call.completed', data);
  }

  /**
   * Runs the request policies. Returns the request to forward, or undefined when a policy answered the client
   * itself (the answer has been written).
   */
  private async requestPhase(
    ctx: CallContext,
    run: ChainRun,
    res: ServerResponse,
  ): Promise<{ body: JsonObject; rewritten: boolean } | undefined> {
    if (!run.chain.hasRequestHooks) return { body: ctx.request, rewritten: false };
    let outcome;
    try {
      outcome = await run.onRequest({ format: ctx.clientFormat, body: ctx.request });
    } catch (error) {
      const message = error instanceof PolicyFailure ? error.message : 'a request policy failed';
      this.logger.warn(`call ${ctx.callId}: ${message}`);
      throw new GatewayException(GatewayErrorCode.Internal, message, { cause: error });
    }
    if (outcome.action === 'forward') return { body: outcome.request, rewritten: outcome.rewritten };
    this.observer.policyDecision(ctx, outcome.policy, outcome.action);
    if (outcome.action === 'reject') {
      throw new GatewayException(
        REJECT_CODES.get(outcome.status) ?? GatewayErrorCode.InvalidRequest,
        outcome.message,
      );
    }
    this.respondDirectly(ctx, outcome.text, res);
    return undefined;
  }

  /** Answers the client with an assistant message written by a policy, in its format, streaming or not. */
  private respondDirectly(ctx: CallContext, text: string, res: ServerResponse): void {
    const message: AnthropicResponse = {
      id: `msg_warden_${ctx.callId.replace(/-/g, '')}`,
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    // The history keeps what the client got; no upstream answered, so there is no original response.
    this.publish(ctx, EVENT_TYPES.responseCompleted, responseData(null, message));
    if (ctx.stream) {
      const sink = createClientSink(ctx.clientFormat, {}, includeUsageOf(ctx.request));
      let out = '';
      for (const event of messageToEvents(message)) out += sink.write(event);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(out);
      return;
    }
    const body = JSON.stringify(
      ctx.clientFormat === 'anthropic' ? message : anthropicResponseToOpenAI(message),
    );
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** The bytes to send upstream and the body they encode (for the history). */
  private upstreamBody(
    ctx: CallContext,
    request: JsonObject,
    rewritten: boolean,
  ): { payload: string | Buffer; forwarded: JsonObject } {
    const sameFormat = ctx.clientFormat === ctx.upstreamFormat;
    const renamed = ctx.route.upstreamModel !== ctx.model;
    if (sameFormat && !rewritten && !renamed) return { payload: ctx.rawBody, forwarded: request };
    if (sameFormat && !rewritten) {
      // Only the model changes: the client's bytes go as they are, the model's value replaced in place.
      const changed = withStringMember(request, 'model', ctx.route.upstreamModel);
      if (changed !== undefined) return { payload: changed.bytes, forwarded: changed.value };
    }
    const withModel = renamed ? { ...request, model: ctx.route.upstreamModel } : request;
    if (sameFormat) return forwardedAs(withModel);
    try {
      return forwardedAs(
        ctx.clientFormat === 'openai'
          ? openAIRequestToAnthropic(withModel as OpenAIRequest, {
              defaultMaxTokens: this.upstreamCfg.anthropicDefaultMaxTokens,
            })
          : anthropicRequestToOpenAI(withModel as AnthropicRequest),
      );
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

  /**
   * {@link send} inside the call's `warden.upstream` span, from sending to the response headers (retries included).
   * The span is active meanwhile: the upstream headers carry its `traceparent`.
   */
  private async tracedSend(
    ctx: CallContext,
    body: string | Buffer,
    endpoint?: 'chat' | 'messages' | 'count-tokens',
  ): Promise<UpstreamResponse> {
    const span = startUpstreamSpan(ctx.span, ctx.route, ctx.upstreamFormat, endpoint ?? ctx.endpoint);
    try {
      const response = await withActiveSpan(span, () => this.send(ctx, body, endpoint));
      endUpstreamSpan(span, response.status);
      return response;
    } catch (error) {
      failSpan(span, error);
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
      credentialHeader: ctx.route.provider.credentialHeader,
    });
    try {
      return await this.upstream.send({
        provider: ctx.route.provider,
        format: ctx.upstreamFormat,
        endpoint,
        query: ctx.upstreamFormat === 'anthropic' && ctx.clientFormat === 'anthropic' ? ctx.query : '',
        headers,
        body,
        signal: ctx.aborts,
        timeouts: ctx.route.timeouts,
        deadlineAt: ctx.startedAt + ctx.route.timeouts.totalMs,
        onRetry: recordUpstreamRetry,
      });
    } catch (error) {
      // The gateway itself ended the call (a drain out of time): the client gets that reason, e.g. a 503.
      if (ctx.aborts.aborted && ctx.aborts.reason instanceof GatewayException) throw ctx.aborts.reason;
      if (error instanceof UpstreamCircuitOpenException) {
        throw new GatewayException(GatewayErrorCode.UpstreamCircuitOpen, error.message, {
          headers: { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / MS_PER_SECOND))) },
          cause: error,
        });
      }
      if (!(error instanceof UpstreamException)) throw error;
      switch (error.failure) {
        case 'connect':
        case 'reset':
        case 'tls':
          throw new GatewayException(GatewayErrorCode.UpstreamUnreachable, error.message, { cause: error });
        case 'error':
          throw new GatewayException(GatewayErrorCode.UpstreamBadResponse, error.message, { cause: error });
        case 'aborted':
          throw error;
        case 'timeout':
        case 'first-token-timeout':
        case 'idle-timeout':
          throw new GatewayException(GatewayErrorCode.UpstreamTimeout, error.message, { cause: error });
        default: {
          const unhandled: never = error.failure;
          throw new Error(`unhandled upstream failure ${String(unhandled)}`, { cause: error });
        }
      }
    }
  }

  private async readWhole(upstream: UpstreamResponse, limit: number): Promise<Buffer> {
    const data = await upstream.body.readAll(limit);
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
  }

  private async relayStream(
    ctx: CallContext,
    run: ChainRun,
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
    const streamSpan = startChildSpan(ctx.span, STREAM_SPAN);
    const recorder = new CallRecorder(this.cfg.maxResponseBytes);
    const relay = this.createRelay(ctx, run, recorder, streamSpan);
    const outcome = await pumpStream(ctx, upstream, res, relay, {
      maxFrameBytes: this.cfg.maxSseFrameBytes,
      firstTokenMs: ctx.route.timeouts.firstTokenMs,
      keepAliveMs: this.cfg.keepAliveMs,
    }).catch((error: unknown) => {
      failSpan(streamSpan, error);
      throw error;
    });
    endStreamSpan(streamSpan, ctx.span, outcome);
    if (outcome.firstTokenMs !== undefined) {
      this.observer.firstToken(ctx, outcome.firstTokenMs);
      this.publish(ctx, EVENT_TYPES.firstToken, { firstTokenMs: outcome.firstTokenMs });
    }
    // Assembling the history copy of the messages happens after the response ended, off the hot path.
    setImmediate(() => {
      const { original, final, truncated } = recorder.messages();
      this.publish(
        ctx,
        EVENT_TYPES.responseCompleted,
        responseData(original ?? null, final ?? null, truncated),
      );
      if (outcome.status === 'completed') this.completed(ctx, 200, relay.usage, outcome.firstTokenMs);
      else
        this.publish(ctx, EVENT_TYPES.callFailed, { error: outcome.error ?? outcome.status, stream: true });
    });
  }

  private createRelay(ctx: CallContext, run: ChainRun, recorder: CallRecorder, span: Span): FrameRelay {
    const sameFormat = ctx.clientFormat === ctx.upstreamFormat;
    if (sameFormat && !run.chain.hasResponseHooks) {
      return ctx.clientFormat === 'anthropic'
        ? new AnthropicPassthroughRelay(recorder)
        : new OpenAIPassthroughRelay(recorder);
    }
    return new TranscodingRelay(ctx.upstreamFormat, ctx.clientFormat, run.streamTransform(span), {
      includeUsage: includeUsageOf(ctx.request),
      recorder,
    });
  }

  /** A whole (non-streaming) response; records it and completes the call. */
  private async relayWhole(
    ctx: CallContext,
    run: ChainRun,
    upstream: UpstreamResponse,
    res: ServerResponse,
  ): Promise<void> {
    const data = await this.readWhole(upstream, this.cfg.maxResponseBytes);
    const sameFormat = ctx.clientFormat === ctx.upstreamFormat;
    const headers = clientResponseHeaders(upstream.headers, sameFormat);
    if (sameFormat && !run.chain.hasResponseHooks) {
      headers['content-length'] = data.length;
      res.writeHead(upstream.status, headers);
      res.end(data);
      // The bytes went through untouched; the history copy is parsed after the response, off the hot path.
      setImmediate(() => {
        let message: AnthropicResponse | null = null;
        try {
          message = this.canonical(ctx, parseUpstreamJson(data));
        } catch {
          // Recorded as null: the client got the upstream's bytes, whatever they were.
        }
        this.publish(ctx, EVENT_TYPES.responseCompleted, responseData(message, message));
        this.completed(ctx, upstream.status, usageOf(message));
      });
      return;
    }
    const parsed = parseUpstreamJson(data);
    const original = this.canonical(ctx, parsed);
    const final = await this.finalResponse(ctx, run, original, parsed);
    const out = JSON.stringify(final.body);
    // The client's body is the final message itself when the client speaks Anthropic: the history reuses the text.
    if (final.body === final.message) rememberJsonText(final.message, out);
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(out);
    res.writeHead(upstream.status, headers);
    res.end(out);
    this.publish(ctx, EVENT_TYPES.responseCompleted, responseData(original, final.message));
    this.completed(ctx, upstream.status, usageOf(final.message));
  }

  /** An upstream response body as a canonical (Anthropic-shaped) message. */
  private canonical(ctx: CallContext, upstream: JsonObject): AnthropicResponse {
    return ctx.upstreamFormat === 'anthropic'
      ? (upstream as AnthropicResponse)
      : openAIResponseToAnthropic(upstream as OpenAIResponse);
  }

  /** Runs the response policies over the whole message and encodes it in the client's format. */
  private async finalResponse(
    ctx: CallContext,
    run: ChainRun,
    original: AnthropicResponse,
    upstreamBody: JsonObject,
  ): Promise<{ body: JsonObject; message: AnthropicResponse }> {
    let message = original;
    if (run.chain.hasResponseHooks) {
      try {
        message = await run.transformMessage(structuredClone(original));
      } catch (error) {
        const reason = error instanceof PolicyFailure ? error.message : 'a response policy failed';
        throw new GatewayException(GatewayErrorCode.Internal, reason, { cause: error });
      }
    }
    if (ctx.clientFormat === 'anthropic') return { body: message, message };
    const converted = anthropicResponseToOpenAI(message);
    if (ctx.upstreamFormat !== 'openai') return { body: converted, message };
    // Same-format OpenAI behind a response policy: keep every upstream field, replace what policies may change.
    const upstream = upstreamBody as OpenAIResponse;
    const choice = converted.choices[0];
    return {
      body: {
        ...upstream,
        choices: choice === undefined ? upstream.choices : [{ ...upstream.choices[0], ...choice }],
      },
      message,
    };
  }
}

/** The HTTP status a call ended with: what was sent, else what the API's error writer will send for `failure`. */
function statusOf(res: ServerResponse, failure: unknown): number {
  if (res.headersSent) return res.statusCode;
  if (failure instanceof GatewayException) return ERROR_MAPPINGS[failure.code].status;
  if (failure instanceof UpstreamException && failure.failure === 'aborted') return CLIENT_CLOSED_STATUS;
  return failure === undefined ? res.statusCode : 500;
}

function providerCredential(apiKey: string | undefined): Credential | undefined {
  return apiKey === undefined ? undefined : { scheme: 'x-api-key', value: apiKey };
}

/** `response.completed` data: the final message only when policies changed it (the history stores it once). */
function responseData(
  original: AnthropicResponse | null,
  final: AnthropicResponse | null,
  truncated?: boolean,
): JsonObject {
  const data: JsonObject = final === original ? { original, unchanged: true } : { original, final };
  if (truncated !== undefined) data.truncated = truncated;
  return data;
}

function usageOf(message: AnthropicResponse | null): CallUsage {
  const usage = message?.usage;
  return { inputTokens: usage?.input_tokens, outputTokens: usage?.output_tokens };
}

function includeUsageOf(request: JsonObject): boolean {
  const options = request.stream_options;
  return isJsonObject(options) && options.include_usage === true;
}

/** An upstream's JSON body (an Anthropic message is recorded from these bytes: see parseJsonBytes). */
function parseUpstreamJson(data: Buffer): JsonObject {
  let parsed: unknown;
  try {
    parsed = parseJsonBytes(data);
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

/** A request body to send upstream as JSON, its text remembered for the history (which records it too). */
function forwardedAs(body: JsonObject): { payload: string; forwarded: JsonObject } {
  const payload = JSON.stringify(body);
  rememberJsonText(body, payload);
  return { payload, forwarded: body };
}
