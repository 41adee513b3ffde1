import { Injectable } from '@nestjs/common';

/** Milliseconds between two heartbeats of an idle feed (proxies close silent connections). */
const HEARTBEAT_MS = 15_000;
/** Events kept for `Last-Event-ID` resume. */
const BUFFER_SIZE = 1000;
/** After the last client left, events are still kept this long (ms) for it to reconnect and resume. */
const RESUME_WINDOW_MS = 5 * 60 * 1000;
/** Bytes a slow client may leave unread before it is disconnected (it reconnects and resumes). */
const MAX_PENDING_BYTES = 1024 * 1024;
/** Reconnect delay suggested to EventSource clients. */
const RETRY_MS = 3000;

/** Settings of the live event feed; a provider, so tests can shorten the heartbeat. */
@Injectable()
export class LiveFeedOptions {
  heartbeatMs = HEARTBEAT_MS;
  bufferSize = BUFFER_SIZE;
  resumeWindowMs = RESUME_WINDOW_MS;
  maxPendingBytes = MAX_PENDING_BYTES;
  retryMs = RETRY_MS;
}
