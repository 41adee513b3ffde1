import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ControlPlaneService, type CallEndpoint } from '@warden/control-plane';
import type { WireFormat } from '@warden/llm';
import type { z } from 'zod';
import { ServingState } from '../lifecycle/serving-state';
import { shuttingDown } from '../lifecycle/shutting-down';
import type { RateLimitRouteKind } from '../rate-limit/rate-limit.service';
import { writeApiError } from './api-error.writer';
import { LlmIngressService } from './llm-ingress.service';
import { anthropicCountTokensSchema, anthropicMessagesSchema, openaiChatSchema } from './llm-request.schemas';

interface LlmRoute {
  readonly format: WireFormat;
  readonly endpoint: CallEndpoint;
  readonly schema: z.ZodType;
  readonly action: 'handle' | 'countTokens';
  readonly limitKind: RateLimitRouteKind;
}

/** The hot LLM routes, by exact path (the query string is forwarded, not routed on). */
const ROUTES: ReadonlyMap<string, LlmRoute> = new Map([
  [
    '/v1/chat/completions',
    { format: 'openai', endpoint: 'chat', schema: openaiChatSchema, action: 'handle', limitKind: 'chat' },
  ],
  [
    '/v1/messages',
    {
      format: 'anthropic',
      endpoint: 'messages',
      schema: anthropicMessagesSchema,
      action: 'handle',
      limitKind: 'messages',
    },
  ],
  [
    '/v1/messages/count_tokens',
    {
      format: 'anthropic',
      endpoint: 'messages',
      schema: anthropicCountTokensSchema,
      action: 'countTokens',
      limitKind: 'count_tokens',
    },
  ],
]);

/** The served LLM routes as method and path (all POST), for the API documentation and its coverage test. */
export const LLM_ROUTE_TABLE: ReadonlyArray<{ readonly method: 'POST'; readonly path: string }> = [
  ...ROUTES.keys(),
].map((path) => ({ method: 'POST', path }));

/**
 * The LLM routes (`POST /v1/chat/completions`, `POST /v1/messages[?beta=true]`, `POST /v1/messages/count_tokens`),
 * served straight from the HTTP server ahead of Express and Nest's router: DESIGN.md §8 measured a do-nothing Nest
 * controller at a third of a bare proxy's throughput, so the hot path skips that machinery. Everything else (admin,
 * health, models, 404s) goes to Nest as usual. Wired by DI like any provider; errors use the same writer as the
 * exception filter, so shapes are identical on both paths.
 */
@Injectable()
export class LlmRoutes {
  private readonly logger = new Logger('Errors');
  private active = 0;

  constructor(
    @Inject(LlmIngressService) private readonly ingress: LlmIngressService,
    @Inject(ControlPlaneService) private readonly controlPlane: ControlPlaneService,
    @Inject(ServingState) private readonly state: ServingState,
  ) {}

  /** Serves `req` when it is an LLM route and returns true; false leaves it to Nest. */
  dispatch(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const route = ROUTES.get(q >= 0 ? url.slice(0, q) : url);
    if (route === undefined) return false;
    if (this.state.phase === 'draining') {
      writeApiError(req, res, shuttingDown(), this.logger);
      return true;
    }
    this.active++;
    this.serve(req, res, route)
      .catch((error: unknown) => writeApiError(req, res, error, this.logger))
      .finally(() => this.active--);
    return true;
  }

  /** LLM requests being served, from the route match (body still being read) to the end of the response. */
  get inFlight(): number {
    return this.active;
  }

  private async serve(req: IncomingMessage, res: ServerResponse, route: LlmRoute): Promise<void> {
    const call = await this.ingress.accept(
      req,
      route.format,
      route.endpoint,
      route.schema,
      res,
      route.limitKind,
    );
    if (route.action === 'handle') await this.controlPlane.handle(call, res);
    else await this.controlPlane.countTokens(call, res);
  }
}
