import { z } from 'zod';

/** What a live-feed client asked for: type prefixes (any of), and optionally one session and one call. */
export interface FeedFilter {
  types: string[];
  session?: string;
  call?: string;
}

/** The fields of an event a filter looks at. */
export interface FeedEventKey {
  type: string;
  callId: string | null;
  sessionId?: string;
}

/** Most type prefixes in one filter. */
const MAX_TYPE_PREFIXES = 20;

const id = z.string().trim().min(1).max(200);

/** Query of `GET /api/events/stream`: `type` (comma list of prefixes), `session`, `call`, `lastEventId`. */
export const feedQuerySchema = z
  .object({
    type: z
      .string()
      .max(1000)
      .optional()
      .transform((value) =>
        (value ?? '')
          .split(',')
          .map((prefix) => prefix.trim())
          .filter((prefix) => prefix.length > 0),
      )
      .refine(
        (prefixes) => prefixes.length <= MAX_TYPE_PREFIXES,
        `at most ${MAX_TYPE_PREFIXES} type prefixes`,
      ),
    session: id.optional(),
    call: id.optional(),
    /** Resume point for clients that cannot send `Last-Event-ID` (a reloaded page). */
    lastEventId: id.optional(),
  })
  .strict();

/** The filter of a parsed feed query. */
export function feedFilterOf(query: z.infer<typeof feedQuerySchema>): FeedFilter {
  return {
    types: query.type,
    ...(query.session === undefined ? {} : { session: query.session }),
    ...(query.call === undefined ? {} : { call: query.call }),
  };
}

/** True when `event` passes `filter`: its type starts with one of the prefixes (if any), same session, same call. */
export function matchesFeedFilter(filter: FeedFilter, event: FeedEventKey): boolean {
  if (filter.types.length > 0 && !filter.types.some((prefix) => event.type.startsWith(prefix))) return false;
  if (filter.session !== undefined && event.sessionId !== filter.session) return false;
  if (filter.call !== undefined && event.callId !== filter.call) return false;
  return true;
}
