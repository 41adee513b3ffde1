import type { EventEmitter } from 'node:events';

/** One request seen by the mock, kept in the handle's ring buffer and passed to its events. */
export interface MockRequestRecord {
  /** Sequence number, from 1; also used in the reply ids (`msg_mock_<id>`, `chatcmpl-mock-<id>`). */
  id: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string with its `?` (`?beta=true`), or empty. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; the raw text when it is not JSON; `undefined` when empty. */
  body: unknown;
}

/** Options of {@link startMockLlm}. */
export interface MockLlmOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /**
   * When set, every route but `/health` requires it as `x-api-key`, `api-key` (Azure OpenAI's header) or
   * `Authorization: Bearer`, else 401.
   */
  apiKey?: string;
  /** Size of the `requests` ring buffer; default 200. */
  maxRecords?: number;
}

/** Counters of a running mock. */
export interface MockLlmStats {
  /** Requests received. */
  requests: number;
  /** Requests whose scripted response ran to its end (replies, errors and injected faults alike). */
  completed: number;
  /** Requests whose client closed the connection before the response ended. */
  aborted: number;
}

/** A running mock LLM server. */
export interface MockLlmHandle {
  /** Base URL, `http://host:port`, no trailing slash. */
  url: string;
  port: number;
  /** The last `maxRecords` requests, oldest first. */
  requests: MockRequestRecord[];
  /** Emits `request`, `completed` and `aborted` with the {@link MockRequestRecord}. */
  events: EventEmitter;
  stats: MockLlmStats;
  /** Stops listening and closes every connection, idle keep-alive ones included. */
  close(): Promise<void>;
}
