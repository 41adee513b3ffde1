import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import type { CallFilter } from '@warden/events';
import { z } from 'zod';
import { EXPORT_FORMATS } from './session-export';

/** Page size when none is asked for, and the largest one served. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

const text = (max: number): z.ZodString => z.string().trim().min(1).max(max);
const timestamp = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'must be an ISO date (2025-01-31) or date-time (2025-01-31T12:00:00Z)',
  })
  .transform((value) => new Date(value).toISOString());
const limit = z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE);

/** Query of `GET /api/calls`. */
export const callsQuerySchema = z
  .object({
    session: text(200).optional(),
    model: text(200).optional(),
    status: z.enum(['in_progress', 'completed', 'failed', 'aborted']).optional(),
    policyAction: text(200).optional(),
    from: timestamp.optional(),
    to: timestamp.optional(),
    q: text(500).optional(),
    limit,
    cursor: text(1000).optional(),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

/** Query of `GET /api/sessions`. */
export const sessionsQuerySchema = z
  .object({ limit, cursor: text(1000).optional(), q: text(500).optional() })
  .strict();

/** Query of `GET /api/sessions/:id/export`. */
export const exportQuerySchema = z.object({ format: z.enum(EXPORT_FORMATS).default('markdown') }).strict();

/** A call or session id in a path. */
export const idSchema = text(200);

/** The store filter of a parsed calls query. */
export function callFilterOf(query: z.infer<typeof callsQuerySchema>): CallFilter {
  return {
    sessionId: query.session,
    model: query.model,
    status: query.status,
    policyAction: query.policyAction,
    from: query.from,
    to: query.to,
    q: query.q,
    limit: query.limit,
    cursor: query.cursor,
  };
}

/** Parses request input with `schema`; a 400 naming each bad field otherwise. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return `unknown parameter(s): ${issue.keys.join(', ')}`;
    return field === '' ? issue.message : `${field}: ${issue.message}`;
  });
  throw new GatewayException(GatewayErrorCode.InvalidRequest, `Invalid request: ${problems.join('; ')}`);
}
