import { isJsonObject, type JsonObject } from '@warden/llm';
import type { CallRecord, CallStatus, CallSummary, SessionSummary } from '../conversation-store.port';
import { EVENT_TYPES } from '../event-types';
import type { WardenEvent } from '../warden-event';
import { JsonText } from './json.transformer';

/** A `calls` row as the store reads and writes it (payloads already parsed from JSON). */
export interface CallRow {
  id: string;
  sessionId: string;
  keyId: string | null;
  clientFormat: string;
  upstreamFormat: string | null;
  provider: string | null;
  model: string;
  stream: boolean;
  status: CallStatus;
  httpStatus: number | null;
  startedAt: string;
  completedAt: string | null;
  firstTokenMs: number | null;
  durationMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  error: string | null;
  /** `|policy.action|…|`, or empty: a delimited list that `LIKE` can filter on any driver. */
  policyActions: string;
  originalRequest: unknown;
  finalRequest: unknown;
  originalResponse: unknown;
  finalResponse: unknown;
  /**
   * The call's events in arrival order (column `events`, JSON): its timeline, and what makes writes idempotent. NULL
   * only on a call stored before events moved into the row, without any.
   */
  events: StoredEvent[] | null;
}

/**
 * A call as the write path works on it: its row without the payloads, and its events (read back, only the
 * well-formed ones; none for a NULL column).
 */
export type CallState = Omit<CallRow, (typeof PAYLOAD_FIELDS)[number] | 'events'> & { events: StoredEvent[] };

/** A call created by a batch: a whole row, its events at hand. */
export type NewCall = CallRow & CallState;

/** The events of a stored `events` column (parsed): the well-formed ones, none when NULL or not a list. */
export function storedEventsOf(value: unknown): StoredEvent[] {
  return Array.isArray(value) ? value.filter(isStoredEvent) : [];
}

/**
 * One event of a call as its row keeps it: the event without `callId` and `sessionId` (the row's own), payloads
 * replaced by `{ $storedIn: 'call' }` pointers (they are in the payload columns already).
 */
export interface StoredEvent {
  id: string;
  type: string;
  at: string;
  instance: string;
  data: unknown;
}

/** A `sessions` row. */
export interface SessionRow {
  id: string;
  firstAt: string;
  lastAt: string;
  callCount: number;
  models: string[];
}

/** The payload columns, left out of lists. */
export const PAYLOAD_FIELDS = [
  'originalRequest',
  'finalRequest',
  'originalResponse',
  'finalResponse',
] as const;

/** The columns of a list item: every column but the payloads and the events. */
export const SUMMARY_FIELDS = [
  'id',
  'sessionId',
  'keyId',
  'clientFormat',
  'upstreamFormat',
  'provider',
  'model',
  'stream',
  'status',
  'httpStatus',
  'startedAt',
  'completedAt',
  'firstTokenMs',
  'durationMs',
  'inputTokens',
  'outputTokens',
  'error',
  'policyActions',
] as const satisfies readonly Exclude<keyof CallRow, (typeof PAYLOAD_FIELDS)[number] | 'events'>[];

/** The columns the write path reads back for a stored call: the summary and the events. */
export const STATE_FIELDS = [...SUMMARY_FIELDS, 'events'] as const satisfies readonly (keyof CallState)[];

/**
 * Most events a call keeps. Beyond it, further events still change the call's columns (policy actions, status) but
 * are not kept, except its terminal event: a bound on the row of a call whose policies emit without end.
 */
export const MAX_EVENTS_PER_CALL = 1_000;

/** Longest call or event id stored (ids are UUIDs; longer ones are refused rather than truncated). */
export const MAX_ID_LENGTH = 64;
/** Longest session id, model, provider, key id, event type or instance stored (longer values are truncated). */
export const MAX_NAME_LENGTH = 255;
/** Longest error message stored. */
export const MAX_ERROR_LENGTH = 10_000;

const INT32_MAX = 2_147_483_647;
const POLICY_PREFIX = 'policy.';
const DELIMITER = '|';
const CLIENT_ABORT = /client/i;

/**
 * An event that belongs to a call (gateway-level events are not stored). On the writer thread, its payload fields
 * (see {@link EVENT_PAYLOAD_FIELDS}) arrive serialized already: `payloadText` holds their JSON text, stored as it
 * is, and `data` holds `{ $storedIn: 'call' }` in their place.
 */
export type StorableEvent = WardenEvent & {
  callId: string;
  readonly payloadText?: Readonly<Record<string, string>>;
};

/** Whether the store can keep the event: it belongs to a call and its ids fit the columns. */
export function isStorableEvent(event: WardenEvent): event is StorableEvent {
  return (
    typeof event.id === 'string' &&
    event.id.length > 0 &&
    event.id.length <= MAX_ID_LENGTH &&
    typeof event.callId === 'string' &&
    event.callId.length > 0 &&
    event.callId.length <= MAX_ID_LENGTH
  );
}

/** The canonical form of a timestamp (`YYYY-MM-DDTHH:mm:ss.sssZ`, sortable as text), or undefined if invalid. */
export function normalizeTimestamp(value: string | Date): string | undefined {
  // Events of a call (and of calls made together) mostly share their millisecond: remember the last answer.
  if (typeof value === 'string' && value === lastTimestamp.in) return lastTimestamp.out;
  const out = normalize(value);
  if (typeof value === 'string') {
    lastTimestamp.in = value;
    lastTimestamp.out = out;
  }
  return out;
}

const lastTimestamp: { in: string | undefined; out: string | undefined } = { in: undefined, out: undefined };

function normalize(value: string | Date): string | undefined {
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(time)) return undefined;
  const date = new Date(time);
  const year = date.getUTCFullYear();
  return year < 0 || year > 9999 ? undefined : date.toISOString();
}

/** The session a call belongs to: the client's session id, else the call is its own session. */
export function sessionIdOf(event: StorableEvent): string {
  const session = clip(event.sessionId, MAX_NAME_LENGTH);
  return session === null || session.length === 0 ? event.callId : session;
}

/** The row a `call.started` event creates (`at` is the event's normalized timestamp). */
export function callRowFromStarted(event: StorableEvent, at: string): NewCall {
  const data = event.data;
  return {
    id: event.callId,
    sessionId: sessionIdOf(event),
    keyId: clip(data['keyId'], MAX_NAME_LENGTH),
    clientFormat: clip(data['clientFormat'], 32) ?? 'unknown',
    upstreamFormat: clip(data['upstreamFormat'], 32),
    provider: clip(data['provider'], MAX_NAME_LENGTH),
    model: clip(data['model'], MAX_NAME_LENGTH) ?? '',
    stream: data['stream'] === true,
    status: 'in_progress',
    httpStatus: null,
    startedAt: at,
    completedAt: null,
    firstTokenMs: null,
    durationMs: null,
    inputTokens: null,
    outputTokens: null,
    error: null,
    policyActions: '',
    originalRequest: null,
    finalRequest: null,
    originalResponse: null,
    finalResponse: null,
    events: [storedEvent(event, at)],
  };
}

/** What {@link recordEvent} did with an event. */
export type Recorded = 'kept' | 'duplicate' | 'over-limit';

/**
 * Adds an event to its call's timeline: `duplicate` when the call has it already (a re-delivery, which changes
 * nothing); `over-limit` when the call has {@link MAX_EVENTS_PER_CALL} events already and this one is not its end
 * (not kept, though it may still change the call's columns); `kept` otherwise.
 */
export function recordEvent(row: Pick<CallState, 'events'>, event: StorableEvent, at: string): Recorded {
  const events = row.events;
  for (const stored of events) if (stored.id === event.id) return 'duplicate';
  if (events.length >= MAX_EVENTS_PER_CALL && !TERMINAL_TYPES.has(event.type)) return 'over-limit';
  events.push(storedEvent(event, at));
  return 'kept';
}

const TERMINAL_TYPES: ReadonlySet<string> = new Set([EVENT_TYPES.callCompleted, EVENT_TYPES.callFailed]);

/** Whether an event of this type ends its call (`call.completed`, `call.failed`). */
export function isTerminalType(type: string): boolean {
  return TERMINAL_TYPES.has(type);
}

/**
 * The change an event (other than `call.started`) makes to its call, per EVENT_CONTRACT: the columns to update,
 * empty when the event changes nothing. A call's first terminal event (`call.completed` / `call.failed`) wins.
 */
export function applyCallEvent(
  row: Readonly<Omit<CallState, 'events'>>,
  event: StorableEvent,
  at: string,
): Partial<Omit<CallRow, 'events'>> {
  const data = event.data;
  switch (event.type) {
    case EVENT_TYPES.requestReceived:
      return { originalRequest: payloadOf(event, 'request') };
    case EVENT_TYPES.requestForwarded: {
      const format = clip(data['format'], 32);
      const finalRequest = data['unchanged'] === true ? SAME_AS_ORIGINAL : payloadOf(event, 'request');
      return format === null ? { finalRequest } : { finalRequest, upstreamFormat: format };
    }
    case EVENT_TYPES.firstToken: {
      const firstTokenMs = toInt(data['firstTokenMs']);
      return firstTokenMs === null ? {} : { firstTokenMs };
    }
    case EVENT_TYPES.responseCompleted:
      return {
        originalResponse: payloadOf(event, 'original'),
        finalResponse: data['unchanged'] === true ? SAME_AS_ORIGINAL : payloadOf(event, 'final'),
      };
    case EVENT_TYPES.callCompleted:
      if (row.status !== 'in_progress') return {};
      return {
        status: 'completed',
        httpStatus: toInt(data['status']) ?? row.httpStatus,
        completedAt: at,
        durationMs: toInt(data['durationMs']) ?? elapsedMs(row.startedAt, at),
        firstTokenMs: toInt(data['firstTokenMs']) ?? row.firstTokenMs,
        inputTokens: toInt(data['inputTokens']) ?? row.inputTokens,
        outputTokens: toInt(data['outputTokens']) ?? row.outputTokens,
      };
    case EVENT_TYPES.callFailed: {
      if (row.status !== 'in_progress') return {};
      const error = errorText(data);
      return {
        status: isClientAbort(data) ? 'aborted' : 'failed',
        error: clip(error, MAX_ERROR_LENGTH),
        httpStatus: toInt(data['status']) ?? row.httpStatus,
        completedAt: at,
        durationMs: toInt(data['durationMs']) ?? elapsedMs(row.startedAt, at),
      };
    }
    default: {
      const action = policyActionOf(event.type);
      if (action === undefined) return {};
      const policyActions = addPolicyAction(row.policyActions, action);
      return policyActions === row.policyActions ? {} : { policyActions };
    }
  }
}

/** `policy.<name>.<action>` -> `<name>.<action>`; undefined for other types (and `policy.config.updated`). */
export function policyActionOf(type: string): string | undefined {
  if (!type.startsWith(POLICY_PREFIX) || type === EVENT_TYPES.policyConfigUpdated) return undefined;
  const action = type.slice(POLICY_PREFIX.length).replaceAll(DELIMITER, '_');
  const dot = action.lastIndexOf('.');
  return dot <= 0 || dot === action.length - 1 ? undefined : action;
}

/** Adds an action to a delimited list (a set: an action already present is not repeated). */
export function addPolicyAction(encoded: string, action: string): string {
  if (encoded.includes(`${DELIMITER}${action}${DELIMITER}`)) return encoded;
  return encoded.length === 0 ? `${DELIMITER}${action}${DELIMITER}` : `${encoded}${action}${DELIMITER}`;
}

/** The actions of a delimited list, in the order they were first seen. */
export function decodePolicyActions(encoded: string): string[] {
  return encoded.split(DELIMITER).filter((a) => a.length > 0);
}

/** An event as its call's row keeps it (`at` is the event's normalized timestamp). */
export function storedEvent(event: WardenEvent, at: string): StoredEvent {
  return {
    id: event.id,
    type: clip(event.type, MAX_NAME_LENGTH) ?? '',
    at,
    instance: clip(event.instance, MAX_NAME_LENGTH) ?? '',
    data: withoutPayloads(event),
  };
}

/** A call's stored events as events again, ordered by time then id (as UUIDv7 ids are, within a replica). */
export function toWardenEvents(row: Pick<CallRow, 'id' | 'sessionId' | 'events'>): WardenEvent[] {
  return storedEventsOf(row.events)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((e) => ({
      id: e.id,
      callId: row.id,
      sessionId: row.sessionId,
      type: e.type,
      at: e.at,
      instance: e.instance,
      data: isJsonObject(e.data) ? e.data : {},
    }));
}

function isStoredEvent(value: unknown): value is StoredEvent {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e['id'] === 'string' && typeof e['type'] === 'string' && typeof e['at'] === 'string';
}

/** A row as a list item (no payloads). */
export function toCallSummary(row: Omit<CallRow, (typeof PAYLOAD_FIELDS)[number] | 'events'>): CallSummary {
  return {
    id: row.id,
    sessionId: row.sessionId,
    keyId: row.keyId,
    clientFormat: row.clientFormat,
    upstreamFormat: row.upstreamFormat,
    provider: row.provider,
    model: row.model,
    stream: Boolean(row.stream),
    status: row.status,
    httpStatus: row.httpStatus,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    firstTokenMs: row.firstTokenMs,
    durationMs: row.durationMs,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    error: row.error,
    policyActions: decodePolicyActions(row.policyActions),
  };
}

/** A row as a full record. */
export function toCallRecord(row: CallRow): CallRecord {
  return {
    ...toCallSummary(row),
    originalRequest: row.originalRequest ?? null,
    finalRequest: resolveSame(row.finalRequest, row.originalRequest),
    originalResponse: row.originalResponse ?? null,
    finalResponse: resolveSame(row.finalResponse, row.originalResponse),
  };
}

/** What the calls started in one batch add to a session. */
export interface SessionDelta {
  firstAt: string;
  lastAt: string;
  callCount: number;
  models: string[];
}

/** Adds a started call to a session delta. */
export function addCallToDelta(
  delta: SessionDelta | undefined,
  call: Pick<CallRow, 'startedAt' | 'model'>,
): SessionDelta {
  const base = delta ?? { firstAt: call.startedAt, lastAt: call.startedAt, callCount: 0, models: [] };
  return {
    firstAt: call.startedAt < base.firstAt ? call.startedAt : base.firstAt,
    lastAt: call.startedAt > base.lastAt ? call.startedAt : base.lastAt,
    callCount: base.callCount + 1,
    models: base.models.includes(call.model) ? base.models : [...base.models, call.model],
  };
}

/** A session row with a batch's delta applied. */
export function mergeSession(row: SessionRow, delta: SessionDelta): SessionRow {
  const models = modelsOf(row.models);
  for (const model of delta.models) if (!models.includes(model)) models.push(model);
  return {
    id: row.id,
    firstAt: delta.firstAt < row.firstAt ? delta.firstAt : row.firstAt,
    lastAt: delta.lastAt > row.lastAt ? delta.lastAt : row.lastAt,
    callCount: Number(row.callCount) + delta.callCount,
    models,
  };
}

/** A session row as the port returns it. */
export function toSessionSummary(row: SessionRow): SessionSummary {
  return {
    id: row.id,
    firstAt: row.firstAt,
    lastAt: row.lastAt,
    callCount: Number(row.callCount),
    models: modelsOf(row.models),
  };
}

function modelsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((m): m is string => typeof m === 'string') : [];
}

function errorText(data: JsonObject): string {
  const error = data['error'] ?? data['status'];
  if (typeof error === 'string') return error;
  if (error === undefined || error === null) return 'failed';
  return JSON.stringify(error);
}

function isClientAbort(data: JsonObject): boolean {
  return [data['error'], data['status']].some((v) => typeof v === 'string' && CLIENT_ABORT.test(v));
}

function elapsedMs(from: string, to: string): number | null {
  return toInt(Date.parse(to) - Date.parse(from));
}

/** A finite number as a non-negative int32, else null. */
function toInt(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null;
  return Math.min(Math.round(value), INT32_MAX);
}

/** A string cut to `max` characters, without NUL (which PostgreSQL text refuses); null when not a string. */
function clip(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const clean = value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  return clean.length > max ? clean.slice(0, max) : clean;
}

/**
 * Stored in a `final*` column when the call forwarded the request, or answered with the response, unchanged: the
 * payload is written once (in the `original*` column) and resolved on read.
 */
export const SAME_AS_ORIGINAL = Object.freeze({ $sameAs: 'original' });

function resolveSame(value: unknown, original: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { $sameAs?: unknown }).$sameAs === 'original'
  ) {
    return original ?? null;
  }
  return value ?? null;
}

/** A payload field of an event: its JSON text when it arrived serialized, else its value (null when absent). */
function payloadOf(event: StorableEvent, field: string): unknown {
  const text = event.payloadText?.[field];
  return text === undefined ? (event.data[field] ?? null) : new JsonText(text);
}

/** Event fields whose payload lives in the call's row: the event keeps a pointer, not a second copy. */
export const EVENT_PAYLOAD_FIELDS: Readonly<Record<string, readonly string[]>> = {
  [EVENT_TYPES.requestReceived]: ['request'],
  [EVENT_TYPES.requestForwarded]: ['request'],
  [EVENT_TYPES.responseCompleted]: ['original', 'final'],
};

function withoutPayloads(event: WardenEvent): WardenEvent['data'] {
  const fields = EVENT_PAYLOAD_FIELDS[event.type];
  if (fields === undefined) return event.data;
  const data: Record<string, unknown> = { ...event.data };
  for (const field of fields) if (field in data) data[field] = STORED_IN_CALL;
  return data;
}

/** What a stored event holds in place of a payload kept in the call's row. */
export const STORED_IN_CALL = Object.freeze({ $storedIn: 'call' });
