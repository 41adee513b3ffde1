import { z } from 'zod';

/** A WardenEvent as it arrives from another replica (validated at the edge; unknown fields dropped). */
export const wardenEventSchema = z.object({
  id: z.string(),
  callId: z.string().nullable(),
  sessionId: z.string().optional(),
  type: z.string(),
  at: z.string(),
  instance: z.string(),
  data: z.record(z.string(), z.unknown()),
});

/** One bus message: a JSON array of events. */
export const busMessageSchema = z.array(wardenEventSchema);
