import { Controller, Get, Inject, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AdminAuthGuard } from '../admin/admin-auth.guard';
import { ApiAdmin, ApiErrorResponse, API_TAGS } from '../openapi/api-docs.decorators';
import { feedFilterOf, feedQuerySchema, matchesFeedFilter } from './feed-filter';
import { parseInput } from './history-query.schemas';
import { LiveEventBuffer, type FeedEntry } from './live-event-buffer';
import { LiveFeedOptions } from './live-feed.options';

/**
 * `GET /api/events/stream`: the live activity feed as Server-Sent Events. Raw `@Res()` rather than `@Sse` for
 * heartbeat comments, the `retry` field and backpressure. Each event carries its id; `Last-Event-ID` (or
 * `?lastEventId=`) replays what the client missed from the buffer, or sends a `gap` event when it cannot.
 */
@Controller('api/events')
@UseGuards(AdminAuthGuard)
@ApiAdmin(API_TAGS.liveFeed)
export class EventStreamController {
  constructor(
    @Inject(LiveEventBuffer) private readonly buffer: LiveEventBuffer,
    @Inject(LiveFeedOptions) private readonly options: LiveFeedOptions,
  ) {}

  @Get('stream')
  @ApiOperation({
    summary: 'Live event feed (Server-Sent Events)',
    description:
      'Opens with `retry: <ms>` and `: connected`, then one frame per event: `id: <event id>`, `event: <type>` ' +
      '(`call.started`, `call.completed`, `call.failed`, `policy.<name>.<action>`, `policy.config.updated`, ...), ' +
      '`data: <WardenEvent JSON>`. `: heartbeat` comments keep the connection open. On reconnect, `Last-Event-ID` ' +
      '(or `?lastEventId=`) replays the missed events from the resume buffer (the last 1,000 events, kept while a ' +
      'client is connected and for 5 minutes after the last one left), or sends `event: gap` ' +
      '(`{lastEventId, reason}`) when they are no longer there. A client that stops reading is dropped.',
  })
  @ApiQuery({
    name: 'type',
    required: false,
    description: 'Comma-separated event type prefixes (any of, at most 20).',
  })
  @ApiQuery({ name: 'session', required: false, description: 'Only events of this session.' })
  @ApiQuery({ name: 'call', required: false, description: 'Only events of this call.' })
  @ApiQuery({
    name: 'lastEventId',
    required: false,
    description: 'Resume point, for clients that cannot send the header.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume point (sent by EventSource on reconnect).',
  })
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description: 'The event stream (never ends by itself).',
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example:
          'retry: 3000\n: connected\n\nid: 6f1c…\nevent: call.started\ndata: {"id":"6f1c…","callId":"c1","type":"call.started","at":"2025-01-31T12:00:00.000Z","instance":"host-1","data":{}}\n\n',
      },
    },
  })
  @ApiErrorResponse(400, 'An unknown or invalid query parameter.')
  stream(@Query() rawQuery: unknown, @Req() req: Request, @Res() res: Response): void {
    const query = parseInput(feedQuerySchema, rawQuery);
    const filter = feedFilterOf(query);
    const header = req.headers['last-event-id'];
    const lastEventId =
      (typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined) ?? query.lastEventId;

    res.status(200);
    res.set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);

    let closed = false;
    const send = (chunk: string): void => {
      if (closed) return;
      res.write(chunk);
      // A client that stops reading is dropped rather than buffered without bound; it resumes on reconnect.
      if (res.writableLength > this.options.maxPendingBytes) close();
    };
    const deliver = (entry: FeedEntry): void => {
      if (matchesFeedFilter(filter, entry)) send(entry.frame);
    };
    const attached = this.buffer.attach({ deliver, end: () => close() }, lastEventId);
    const heartbeat = setInterval(() => send(': heartbeat\n\n'), this.options.heartbeatMs);
    heartbeat.unref();
    function close(): void {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      attached.detach();
      if (!res.writableEnded) res.end();
    }
    res.on('close', close);
    // A client gone before this handler ran will not emit 'close' again.
    if (res.destroyed) return close();

    send(`retry: ${this.options.retryMs}\n: connected\n\n`);
    const { missed } = attached;
    if (missed === undefined) {
      send(`event: gap\ndata: ${JSON.stringify({ lastEventId, reason: 'not in the resume buffer' })}\n\n`);
    } else {
      for (const entry of missed) deliver(entry);
    }
  }
}
