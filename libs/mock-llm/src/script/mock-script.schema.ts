import { z } from 'zod';
import type { MockScript } from './mock-script.types';

/** Upper bound on `words`, so a typo cannot make the mock allocate gigabytes. */
export const MAX_SCRIPT_WORDS = 1_000_000;
/** Upper bound on `ttftMs` / `chunkDelayMs` (ten minutes). */
export const MAX_SCRIPT_DELAY_MS = 600_000;
/** Longest `scriptId`. */
const MAX_SCRIPT_ID_LENGTH = 200;
/** Lowest HTTP status a script may force. */
const MIN_ERROR_STATUS = 400;
/** Highest HTTP status a script may force. */
const MAX_ERROR_STATUS = 599;

const count = z.number().int().nonnegative();
const positive = z.number().int().positive();
const delay = count.max(MAX_SCRIPT_DELAY_MS);
/** A JSON object kept as is (a zod record would copy it and drop keys such as `__proto__`). */
const jsonObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'expected an object or a string' },
);

/** Strict zod schema of a {@link MockScript}: unknown keys are refused so typos in tests fail loudly. */
export const mockScriptSchema: z.ZodType<MockScript> = z
  .strictObject({
    text: z.string().optional(),
    words: count.max(MAX_SCRIPT_WORDS).optional(),
    wordsPerChunk: positive.optional(),
    thinking: z.string().optional(),
    tools: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          arguments: z.union([jsonObject, z.string()]).optional(),
          id: z.string().min(1).optional(),
        }),
      )
      .optional(),
    argsChunkSize: positive.optional(),
    ttftMs: delay.optional(),
    chunkDelayMs: delay.optional(),
    status: z.number().int().min(MIN_ERROR_STATUS).max(MAX_ERROR_STATUS).optional(),
    errorType: z.string().min(1).optional(),
    errorMessage: z.string().optional(),
    retryAfter: z.number().nonnegative().optional(),
    resetAfterChunks: count.optional(),
    malformedAfterChunks: count.optional(),
    errorAfterChunks: count.optional(),
    stopReason: z
      .enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'])
      .optional(),
    usage: z.strictObject({ input_tokens: count.optional(), output_tokens: count.optional() }).optional(),
    scriptId: z.string().min(1).max(MAX_SCRIPT_ID_LENGTH).optional(),
    failFirst: count.optional(),
  })
  .refine((s) => s.text === undefined || s.words === undefined, {
    message: '`text` and `words` are exclusive',
  })
  .refine((s) => s.failFirst === undefined || s.scriptId !== undefined, {
    message: '`failFirst` needs a `scriptId` to count requests by',
  });
