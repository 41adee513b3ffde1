import { Controller, Get, Inject, Optional, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import {
  ConversationStore,
  type CallRecord,
  type CallSummary,
  type Page,
  type SessionSummary,
  type WardenEvent,
} from '@warden/events';
import type { Response } from 'express';
import { AdminAuthGuard } from '../admin/admin-auth.guard';
import {
  ApiAdmin,
  ApiErrorResponse,
  ApiJsonOk,
  ApiPageQuery,
  API_TAGS,
} from '../openapi/api-docs.decorators';
import { diffCall, type CallDiff } from './call-diff';
import {
  callFilterOf,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  callsQuerySchema,
  exportQuerySchema,
  idSchema,
  parseInput,
  sessionsQuerySchema,
} from './history-query.schemas';
import { EXPORT_FORMATS, exportSession } from './session-export';
import { extractTurns, type SessionTurn } from './session-turns';
import { errorMessage } from '@warden/observability';

/** Codes of the store's errors (InvalidQueryError, StoreUnavailableError of @warden/events). */
const STORE_ERROR_CODES = {
  invalidQuery: 'INVALID_QUERY',
  unavailable: 'STORE_UNAVAILABLE',
  disabled: 'HISTORY_DISABLED',
} as const;

/** `GET /api/calls/:id`: the call, its events, the structured diffs and the exchange as a turn. */
export interface CallDetail {
  call: CallRecord;
  events: WardenEvent[];
  diff: CallDiff;
  turn: SessionTurn | null;
}

/** `GET /api/sessions/:id`: the session and its conversation as turns. */
export interface SessionDetail {
  session: SessionSummary;
  turns: SessionTurn[];
}

/**
 * The admin history API over the {@link ConversationStore}: calls with filters and cursors, one call with its
 * diffs, sessions as conversations, and session export. Answers 503 while no store is configured.
 */
@Controller('api')
@UseGuards(AdminAuthGuard)
@ApiAdmin(API_TAGS.history)
@ApiErrorResponse(400, 'An unknown or invalid query parameter (the message names it).')
@ApiErrorResponse(503, 'No history store is configured, or its database is unavailable.')
export class HistoryController {
  constructor(@Optional() @Inject(ConversationStore) private readonly store?: ConversationStore) {}

  @Get('calls')
  @ApiOperation({
    summary: 'List calls',
    description: 'Newest first, filtered, cursor-paginated; no payloads.',
  })
  @ApiQuery({ name: 'session', required: false, description: 'Session id.' })
  @ApiQuery({ name: 'model', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['in_progress', 'completed', 'failed', 'aborted'] })
  @ApiQuery({
    name: 'policyAction',
    required: false,
    description: '`<policy>.<action>`, e.g. `pii.redacted`.',
  })
  @ApiQuery({ name: 'from', required: false, description: 'ISO date or date-time (inclusive).' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO date or date-time.' })
  @ApiPageQuery({ max: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @ApiJsonOk('CallPage', 'A page of calls.')
  async calls(@Query() query: unknown): Promise<Page<CallSummary>> {
    const filter = callFilterOf(parseInput(callsQuerySchema, query));
    return await this.read((store) => store.listCalls(filter));
  }

  @Get('calls/:id')
  @ApiOperation({
    summary: 'One call',
    description: 'The call with its payloads, its events, the structured diffs and the exchange as a turn.',
  })
  @ApiParam({ name: 'id', description: 'Call id (`x-warden-call-id`).' })
  @ApiJsonOk('CallDetail', 'The call.')
  @ApiErrorResponse(404, 'No call with this id.')
  async call(@Param('id') id: string): Promise<CallDetail> {
    const callId = parseInput(idSchema, id);
    const found = await this.read((store) => store.getCall(callId));
    if (found === undefined) throw new GatewayException(GatewayErrorCode.NotFound, 'No call with this id');
    return {
      call: found.call,
      events: found.events,
      diff: diffCall(found.call, found.events),
      turn: extractTurns([found.call])[0] ?? null,
    };
  }

  @Get('sessions')
  @ApiOperation({ summary: 'List sessions', description: 'Newest first, cursor-paginated.' })
  @ApiPageQuery({ max: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @ApiJsonOk('SessionPage', 'A page of sessions.')
  async sessions(@Query() query: unknown): Promise<Page<SessionSummary>> {
    const filter = parseInput(sessionsQuerySchema, query);
    return await this.read((store) => store.listSessions(filter));
  }

  @Get('sessions/:id')
  @ApiOperation({
    summary: 'One session',
    description: 'The session and its conversation as turns, oldest first.',
  })
  @ApiParam({ name: 'id', description: 'Session id.' })
  @ApiJsonOk('SessionDetail', 'The session.')
  @ApiErrorResponse(404, 'No session with this id.')
  async session(@Param('id') id: string): Promise<SessionDetail> {
    const found = await this.findSession(id);
    return { session: found.session, turns: extractTurns(found.calls) };
  }

  /** The session as a download: `?format=jsonl|markdown` (default markdown). */
  @Get('sessions/:id/export')
  @ApiOperation({
    summary: 'Export a session',
    description: 'The conversation as a download (`Content-Disposition: attachment`).',
  })
  @ApiParam({ name: 'id', description: 'Session id.' })
  @ApiQuery({ name: 'format', required: false, enum: EXPORT_FORMATS, description: 'Default markdown.' })
  @ApiProduces('text/markdown', 'application/x-ndjson')
  @ApiResponse({
    status: 200,
    description: 'The file: Markdown, or JSON Lines (one turn per line).',
    content: {
      'text/markdown': { schema: { type: 'string' } },
      'application/x-ndjson': { schema: { type: 'string' } },
    },
  })
  @ApiErrorResponse(404, 'No session with this id.')
  async export(@Param('id') id: string, @Query() query: unknown, @Res() res: Response): Promise<void> {
    const { format } = parseInput(exportQuerySchema, query);
    const found = await this.findSession(id);
    const file = exportSession(found.session, extractTurns(found.calls), format);
    res
      .status(200)
      .set({
        'content-type': file.contentType,
        'content-disposition': `attachment; filename="${file.fileName}"`,
      })
      .send(file.body);
  }

  private async findSession(id: string): Promise<{ session: SessionSummary; calls: CallRecord[] }> {
    const sessionId = parseInput(idSchema, id);
    const found = await this.read((store) => store.getSession(sessionId));
    if (found === undefined) throw new GatewayException(GatewayErrorCode.NotFound, 'No session with this id');
    return found;
  }

  /** Runs a store read, mapping the store's coded errors: a query it cannot serve is a 400, a database down a 503. */
  private async read<T>(query: (store: ConversationStore) => Promise<T>): Promise<T> {
    if (this.store === undefined) {
      throw new GatewayException(GatewayErrorCode.Unavailable, 'Conversation history is not configured');
    }
    try {
      return await query(this.store);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const message = errorMessage(error);
      if (code === STORE_ERROR_CODES.invalidQuery) {
        throw new GatewayException(GatewayErrorCode.InvalidRequest, message, { cause: error });
      }
      if (code === STORE_ERROR_CODES.disabled) {
        throw new GatewayException(GatewayErrorCode.NotFound, message, { cause: error });
      }
      if (code === STORE_ERROR_CODES.unavailable) {
        throw new GatewayException(GatewayErrorCode.Unavailable, 'The history database is unavailable', {
          cause: error,
        });
      }
      throw error;
    }
  }
}
