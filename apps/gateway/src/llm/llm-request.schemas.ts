import { z } from 'zod';

/** Minimal shape checks at the edge; `.passthrough()` keeps every provider field, known or not. */
export const openaiChatSchema = z
  .object({
    model: z.string({ error: 'model is required and must be a string' }).min(1, 'model must not be empty'),
    messages: z
      .array(z.unknown(), { error: 'messages is required and must be an array' })
      .min(1, 'messages must not be empty'),
    stream: z.boolean({ error: 'stream must be a boolean' }).nullish(),
  })
  .passthrough();

/** `POST /v1/messages`: Anthropic requires `max_tokens`. */
export const anthropicMessagesSchema = z
  .object({
    model: z.string({ error: 'model is required and must be a string' }).min(1, 'model must not be empty'),
    messages: z.array(z.unknown(), { error: 'messages is required and must be an array' }),
    max_tokens: z
      .number({ error: 'max_tokens is required and must be a number' })
      .int('max_tokens must be an integer')
      .positive('max_tokens must be at least 1'),
    stream: z.boolean({ error: 'stream must be a boolean' }).optional(),
  })
  .passthrough();

/** `POST /v1/messages/count_tokens`: no `max_tokens`. */
export const anthropicCountTokensSchema = z
  .object({
    model: z.string({ error: 'model is required and must be a string' }).min(1, 'model must not be empty'),
    messages: z.array(z.unknown(), { error: 'messages is required and must be an array' }),
  })
  .passthrough();
