import { z } from 'zod';
import type { Policy, ToolCall } from '../core/policy';
import type { PolicyContext } from '../core/policy-context';
import { requestTexts } from '../core/policy-request';
import { definePolicyType } from '../registry/policy-type';
import {
  ALLOWED_REGEX_FLAGS,
  compileRegex,
  DEFAULT_MAX_MATCH_LENGTH,
  MAX_MATCH_LENGTH_LIMIT,
  regexError,
  safeCut,
  StreamScanner,
  type ScanSegment,
} from './string-replace.policy';

/** The default block message. */
export const DEFAULT_BLOCK_MESSAGE =
  'Blocked by policy: the content matched a forbidden pattern ({pattern}).';

/** Fills `{pattern}` and `{match}` in a message template (in one pass: a match is never read as a placeholder). */
function fillMessage(template: string, pattern: string, match: string): string {
  return template.replace(/\{(pattern|match)\}/g, (_, key: string) => (key === 'pattern' ? pattern : match));
}

/** Every string value inside a parsed JSON value (tool-call arguments as the tool will see them, unescaped). */
function stringLeaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringLeaves(item, out);
  else if (typeof value === 'object' && value !== null)
    for (const item of Object.values(value)) stringLeaves(item, out);
  return out;
}

const optionsSchema = z
  .object({
    patterns: z
      .array(z.string().min(1))
      .min(1)
      .describe('JavaScript regular expressions; any match blocks, e.g. "DROP\\s+TABLE".'),
    flags: z
      .string()
      .regex(ALLOWED_REGEX_FLAGS, 'only the flags i, m, s and u are allowed (g is implied)')
      .default('i')
      .describe('Regex flags among i, m, s, u, for every pattern.'),
    scopes: z
      .array(z.enum(['request', 'response', 'tool_call']))
      .min(1)
      .default(['request', 'tool_call'])
      .describe(
        'request: answer the client with the message instead of calling the model; tool_call: replace a matching ' +
          'tool call (name or arguments) by the message; response: cut the response text at the match.',
      ),
    message: z
      .string()
      .default(DEFAULT_BLOCK_MESSAGE)
      .describe('What the client sees instead; {pattern} is the pattern, {match} the matched text.'),
    maxMatchLength: z
      .number()
      .int()
      .min(1)
      .max(MAX_MATCH_LENGTH_LIMIT)
      .default(DEFAULT_MAX_MATCH_LENGTH)
      .describe(
        'response scope: the longest match (lookarounds included) found in streamed text; up to twice that is held back.',
      ),
  })
  .strict()
  .superRefine((options, ctx) => {
    const flagsError = regexError('', options.flags);
    if (flagsError !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['flags'], message: flagsError });
      return;
    }
    for (const [i, pattern] of options.patterns.entries()) {
      const error = regexError(pattern, options.flags);
      if (error !== undefined) ctx.addIssue({ code: 'custom', path: ['patterns', i], message: error });
    }
  });

interface BlockState {
  /** The scanner of the text block being streamed. */
  scanner: StreamScanner | undefined;
  /** The response matched: the rest of the message's text is suppressed and later tool calls are dropped. */
  blocked: boolean;
  /** A trailing high surrogate held back from the last delta. */
  carry: string;
}

/**
 * `regex-block`: blocks requests, tool calls and/or response text that match forbidden patterns (for instance SQL
 * `DROP\s+TABLE`). Response text is searched while it streams, holding only a bounded tail: the text before the
 * match is forwarded, the rest of the message's text is replaced by the message, and later tool calls are dropped.
 */
export const regexBlockPolicyType = definePolicyType({
  name: 'regex-block',
  description:
    'Blocks requests, tool calls and/or response text matching forbidden regular expressions (e.g. DROP\\s+TABLE).',
  options: optionsSchema,
  create: (options, { name }): Policy => {
    const regexes = options.patterns.map((pattern) => compileRegex(pattern, options.flags));
    const scopes = new Set(options.scopes);
    const state = (ctx: PolicyContext) =>
      ctx.state<BlockState>(() => ({ scanner: undefined, blocked: false, carry: '' }));

    /** The first pattern (in order) matching one of `texts`. */
    const firstMatch = (texts: Iterable<string>): { pattern: string; match: string } | undefined => {
      for (const text of texts) {
        for (const [i, regex] of regexes.entries()) {
          regex.lastIndex = 0;
          const match = regex.exec(text);
          if (match !== null) return { pattern: options.patterns[i] as string, match: match[0] };
        }
      }
      return undefined;
    };

    /** Turns scanner output into text: everything up to the first match, then the message. */
    const release = (ctx: PolicyContext, s: BlockState, segments: ScanSegment[], final: boolean): string => {
      let out = s.carry;
      s.carry = '';
      for (const segment of segments) {
        if (typeof segment === 'string') {
          out += segment;
          continue;
        }
        const pattern = options.patterns[segment.pattern] as string;
        s.blocked = true;
        s.scanner = undefined;
        ctx.emit('blocked', { scope: 'response', pattern });
        return out + fillMessage(options.message, pattern, segment.match[0]);
      }
      if (final) return out;
      const cut = safeCut(out);
      s.carry = out.slice(cut);
      return out.slice(0, cut);
    };

    const requestHooks: Pick<Policy, 'onRequest'> | undefined = scopes.has('request')
      ? {
          onRequest: (ctx, request) => {
            const hit = firstMatch(requestTexts(request).map((t) => t.text));
            if (hit === undefined) return undefined;
            ctx.emit('blocked', { scope: 'request', pattern: hit.pattern });
            return { action: 'respond', text: fillMessage(options.message, hit.pattern, hit.match) };
          },
        }
      : undefined;

    const responseHooks: Pick<Policy, 'onTextDelta' | 'onTextComplete'> | undefined = scopes.has('response')
      ? {
          onTextDelta: (ctx, text) => {
            const s = state(ctx);
            if (s.blocked) return '';
            s.scanner ??= new StreamScanner(regexes, options.maxMatchLength);
            return release(ctx, s, s.scanner.push(text), false);
          },
          onTextComplete: (ctx) => {
            const s = state(ctx);
            if (s.blocked) return '';
            const scanner = s.scanner ?? new StreamScanner(regexes, options.maxMatchLength);
            s.scanner = undefined;
            return release(ctx, s, scanner.end(), true);
          },
        }
      : undefined;

    const checkTool = (call: ToolCall) =>
      firstMatch([call.name, call.arguments, ...stringLeaves(call.input)]);
    const toolHooks: Pick<Policy, 'onToolCallComplete'> | undefined =
      scopes.has('tool_call') || scopes.has('response')
        ? {
            onToolCallComplete: (ctx, call) => {
              if (scopes.has('response') && state(ctx).blocked) return { action: 'drop' };
              if (!scopes.has('tool_call')) return undefined;
              const hit = checkTool(call);
              if (hit === undefined) return undefined;
              ctx.emit('blocked', { scope: 'tool_call', pattern: hit.pattern, tool: call.name });
              return { action: 'replace', text: fillMessage(options.message, hit.pattern, hit.match) };
            },
          }
        : undefined;

    return { name, ...requestHooks, ...responseHooks, ...toolHooks };
  },
});
