import { Controller, Get, Inject, Optional, Param, Query, Res, UseGuards } from '@nestjs/common';
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
import { diffCall, type CallDiff } from './call-diff';
import {
  callFilterOf,
  callsQuerySchema,
  exportQuerySchema,
  idSchema,
  parseInput,
  sessionsQuerySchema,
} from './history-query.schemas';
import { exportSession } from './session-export';
import { extractTurns, type SessionTurn } from './session-turns';

/** Codes of the store's errors (InvalidQueryError, StoreUnavailableError of @warden/events). */
const STORE_ERROR_CODES = { invalidQuery: 'INVALID_QUERY', unavailable: 'STORE_UNAVAILABLE' } as const;

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
export class HistoryController {
  constructor(@Optional() @Inject(ConversationStore) private readonly store?: ConversationStore) {}

  @Get('calls')
  async calls(@Query() query: unknown): Promise<Page<CallSummary>> {
    const filter = callFilterOf(parseInput(callsQuerySchema, query));
    return await this.read((store) => store.listCalls(filter));
  }

  @Get('calls/:id')
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
  async sessions(@Query() query: unknown): Promise<Page<SessionSummary>> {
    const filter = parseInput(sessionsQuerySchema, query);
    return await this.read((store) => store.listSessions(filter));
  }

  @Get('sessions/:id')
  async session(@Param('id') id: string): Promise<SessionDetail> {
    const found = await this.findSession(id);
    return { session: found.session, turns: extractTurns(found.calls) };
  }

  /** The session as a download: `?format=jsonl|markdown` (default markdown). */
  @Get('sessions/:id/export')
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
      const message = error instanceof Error ? error.message : String(error);
      if (code === STORE_ERROR_CODES.invalidQuery) {
        throw new GatewayException(GatewayErrorCode.InvalidRequest, message, { cause: error });
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
