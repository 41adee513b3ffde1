import { z } from 'zod';
import type { Policy } from '../core/policy';
import type { PolicyContext } from '../core/policy-context';
import { mapRequestText } from '../core/policy-request';
import { definePolicyType } from '../registry/policy-type';

/** Default `maxMatchLength`: the longest regex match (lookarounds included) searched for in streamed text. */
export const DEFAULT_MAX_MATCH_LENGTH = 256;
/** Largest `maxMatchLength` accepted (a scanner holds up to twice that per regex rule and block). */
export const MAX_MATCH_LENGTH_LIMIT = 65_536;
/** Regex flags an option may set; `g` is always implied. */
export const ALLOWED_REGEX_FLAGS = /^[imsu]*$/;
const FLAGS_MESSAGE = 'only the flags i, m, s and u are allowed (g is implied)';

/** A match found by {@link StreamScanner}: which pattern, and its exec result (`index`/`input` are window-relative). */
export interface ScanMatch {
  readonly pattern: number;
  readonly match: RegExpExecArray;
}

/** What a scanner releases, in text order: text without a match, or a match. */
export type ScanSegment = string | ScanMatch;

const HIGH_SURROGATE_MIN = 0xd800;
const HIGH_SURROGATE_MAX = 0xdbff;
const LOW_SURROGATE_MIN = 0xdc00;
const LOW_SURROGATE_MAX = 0xdfff;

function isHighSurrogate(code: number): boolean {
  return code >= HIGH_SURROGATE_MIN && code <= HIGH_SURROGATE_MAX;
}

/**
 * Where `text` may be cut so that a surrogate pair is never split across two deltas: its length, or one less when
 * it ends with a high surrogate (held until the next delta).
 */
export function safeCut(text: string): number {
  return text.length > 0 && isHighSurrogate(text.charCodeAt(text.length - 1)) ? text.length - 1 : text.length;
}

/** How far an empty match at `index` advances, as `String.prototype.replace` does (a code point with `u`). */
function emptyMatchStep(text: string, index: number, unicode: boolean): number {
  if (!unicode || index + 1 >= text.length || !isHighSurrogate(text.charCodeAt(index))) return 1;
  const next = text.charCodeAt(index + 1);
  return next >= LOW_SURROGATE_MIN && next <= LOW_SURROGATE_MAX ? 2 : 1;
}

/**
 * Finds the matches of regexes in a text that arrives in pieces, with the same result for every split of the text.
 * The text is searched in windows placed by text positions only, never by where the pieces end: at cursor `c` the
 * window is `text[c, c + 2M)` (M = `maxMatchLength`) and a match counts only when it starts in the first half, so a
 * match of up to M characters (lookarounds included) is always seen whole; lookbehinds see the M characters before
 * `c`. The window that reaches the end of the text takes every match. When no match (with its lookarounds) is longer
 * than M, the result is exactly that of `String.prototype.replace` over the whole text (empty matches included); a
 * longer one is cut at the window. At most 2M characters are held between pushes. With several patterns the
 * leftmost match wins (the first pattern on a tie). The regexes must be global; they may be shared (every exec sets
 * `lastIndex` first).
 */
export class StreamScanner {
  /** Unconsumed text from the cursor `pos`, preceded by up to M consumed characters (lookbehind context). */
  private buf = '';
  private pos = 0;
  private readonly window: number;

  constructor(
    private readonly regexes: readonly RegExp[],
    private readonly maxMatchLength: number,
  ) {
    this.window = 2 * maxMatchLength;
  }

  /** Adds text; returns what is decided (the last 2M characters at most stay held). */
  push(text: string): ScanSegment[] {
    this.buf += text;
    const out: ScanSegment[] = [];
    while (this.buf.length - this.pos > this.window) this.step(out);
    const start = Math.max(0, this.pos - this.maxMatchLength);
    this.buf = this.buf.slice(start);
    this.pos -= start;
    return out;
  }

  /** The text is complete: returns the rest. The scanner is reset. */
  end(): ScanSegment[] {
    const out: ScanSegment[] = [];
    while (this.buf.length - this.pos > this.window) this.step(out);
    this.last(out);
    this.buf = '';
    this.pos = 0;
    return out;
  }

  /** One window that does not reach the end of the text: a match starting in its first half, or M characters. */
  private step(out: ScanSegment[]): void {
    const start = Math.max(0, this.pos - this.maxMatchLength);
    const view = this.buf.slice(start, this.pos + this.window);
    const from = this.pos - start;
    const found = this.find(view, from, from + this.maxMatchLength);
    if (found === undefined) {
      out.push(view.slice(from, from + this.maxMatchLength));
      this.pos += this.maxMatchLength;
      return;
    }
    this.pos = start + this.take(view, from, found, out);
  }

  /** The window that reaches the end of the text: every match, an empty one at the very end included. */
  private last(out: ScanSegment[]): void {
    for (;;) {
      const start = Math.max(0, this.pos - this.maxMatchLength);
      const view = this.buf.slice(start);
      const from = this.pos - start;
      const found = this.find(view, from, view.length + 1);
      if (found === undefined) {
        if (from < view.length) out.push(view.slice(from));
        return;
      }
      const next = this.take(view, from, found, out);
      if (next > view.length) return;
      this.pos = start + next;
    }
  }

  /** Emits the text before `found` and `found`; returns the view index where the search resumes. */
  private take(view: string, from: number, found: ScanMatch, out: ScanSegment[]): number {
    const { index } = found.match;
    const length = found.match[0].length;
    if (index > from) out.push(view.slice(from, index));
    out.push(found);
    if (length > 0) return index + length;
    if (index >= view.length) return index + 1;
    const regex = this.regexes[found.pattern] as RegExp;
    const next = index + emptyMatchStep(view, index, regex.unicode);
    out.push(view.slice(index, next));
    return next;
  }

  /** The leftmost match at or after `from` that starts before `limit`. */
  private find(view: string, from: number, limit: number): ScanMatch | undefined {
    let best: ScanMatch | undefined;
    for (const [pattern, regex] of this.regexes.entries()) {
      regex.lastIndex = from;
      const match = regex.exec(view);
      if (match === null || match.index >= limit) continue;
      if (best === undefined || match.index < best.match.index) best = { pattern, match };
    }
    return best;
  }
}

/**
 * Expands a `String.prototype.replace` template for one match: `$$`, `$&`, `$1`..`$99` and `$<name>`, as the
 * language does. `` $` `` and `$'` are refused by the options (streamed text has no whole prefix or suffix).
 */
export function expandReplacement(template: string, match: RegExpExecArray): string {
  if (!template.includes('$')) return template;
  const captures = match.length - 1;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const ch = template.charAt(i);
    const next = template.charAt(i + 1);
    if (ch !== '$' || next === '') {
      out += ch;
      i++;
    } else if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '&') {
      out += match[0];
      i += 2;
    } else if (next >= '0' && next <= '9') {
      const two = template.slice(i + 1, i + 3);
      const twoDigits = /^\d\d$/.test(two) ? Number(two) : 0;
      const oneDigit = Number(next);
      if (twoDigits >= 1 && twoDigits <= captures) {
        out += match[twoDigits] ?? '';
        i += 3;
      } else if (oneDigit >= 1 && oneDigit <= captures) {
        out += match[oneDigit] ?? '';
        i += 2;
      } else {
        out += '$';
        i++;
      }
    } else if (next === '<' && match.groups !== undefined && template.indexOf('>', i + 2) !== -1) {
      const close = template.indexOf('>', i + 2);
      out += match.groups[template.slice(i + 2, close)] ?? '';
      i = close + 1;
    } else {
      out += '$';
      i++;
    }
  }
  return out;
}

/** `` $` `` or `$'` in a template (not `$$` followed by one of them), else undefined. */
function unsupportedReference(template: string): string | undefined {
  for (let i = 0; i < template.length - 1; i++) {
    if (template[i] !== '$') continue;
    const next = template[i + 1];
    if (next === '`' || next === "'") return `$${next}`;
    i++;
  }
  return undefined;
}

/** Compiles a validated pattern (`g` added). */
export function compileRegex(pattern: string, flags: string): RegExp {
  return new RegExp(pattern, `${flags}g`);
}

/** The compile error of a pattern, or undefined when it is valid. */
export function regexError(pattern: string, flags: string): string | undefined {
  try {
    compileRegex(pattern, flags);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** One rule's pass over a streamed text. */
interface RuleStage {
  push(text: string): string;
  end(): string;
  /** Replacements made so far. */
  readonly count: number;
}

/** A literal rule: holds the last `match.length - 1` characters, the most a match cut by a chunk end can have. */
class LiteralStage implements RuleStage {
  private buf = '';
  count = 0;

  constructor(
    private readonly match: string,
    private readonly replace: string,
  ) {}

  push(text: string): string {
    return this.run(text, false);
  }

  end(): string {
    return this.run('', true);
  }

  private run(text: string, final: boolean): string {
    const buf = this.buf + text;
    let out = '';
    let pos = 0;
    for (let at = buf.indexOf(this.match); at !== -1; at = buf.indexOf(this.match, pos)) {
      out += buf.slice(pos, at) + this.replace;
      pos = at + this.match.length;
      this.count++;
    }
    const keep = final ? buf.length : Math.max(pos, buf.length - (this.match.length - 1));
    this.buf = buf.slice(keep);
    return out + buf.slice(pos, keep);
  }
}

/** A regex rule over a {@link StreamScanner}. */
class RegexStage implements RuleStage {
  private readonly scanner: StreamScanner;
  count = 0;

  constructor(
    regex: RegExp,
    private readonly replace: string,
    maxMatchLength: number,
  ) {
    this.scanner = new StreamScanner([regex], maxMatchLength);
  }

  push(text: string): string {
    return this.render(this.scanner.push(text));
  }

  end(): string {
    return this.render(this.scanner.end());
  }

  private render(segments: ScanSegment[]): string {
    let out = '';
    for (const segment of segments) {
      if (typeof segment === 'string') {
        out += segment;
      } else {
        out += expandReplacement(this.replace, segment.match);
        this.count++;
      }
    }
    return out;
  }
}

/** A compiled rule. */
type Rule =
  | { readonly kind: 'literal'; readonly match: string; readonly replace: string }
  | { readonly kind: 'regex'; readonly regex: RegExp; readonly replace: string };

/**
 * The rules applied one after the other to one streamed text (each rule's output feeds the next), so that the
 * concatenated output is the rules applied to the whole text, whatever the chunking. A trailing high surrogate is
 * held so that no output splits a surrogate pair.
 */
class ReplacePipeline {
  private readonly stages: RuleStage[];
  private carry = '';

  constructor(rules: readonly Rule[], maxMatchLength: number) {
    this.stages = rules.map((rule) =>
      rule.kind === 'literal'
        ? new LiteralStage(rule.match, rule.replace)
        : new RegexStage(rule.regex, rule.replace, maxMatchLength),
    );
  }

  get count(): number {
    return this.stages.reduce((sum, stage) => sum + stage.count, 0);
  }

  push(text: string): string {
    let current = text;
    for (const stage of this.stages) current = stage.push(current);
    const out = this.carry + current;
    const cut = safeCut(out);
    this.carry = out.slice(cut);
    return out.slice(0, cut);
  }

  end(): string {
    let current = '';
    for (const stage of this.stages) current = stage.push(current) + stage.end();
    const out = this.carry + current;
    this.carry = '';
    return out;
  }
}

const ruleSchema = z
  .object({
    match: z.string().min(1).describe('The text to find; a regular expression when `regex` is true.'),
    replace: z
      .string()
      .describe(
        'The replacement. Literal for literal rules; for regex rules `$&`, `$1`..`$99`, `$<name>` and `$$` expand as in ' +
          "JavaScript (`$`` and `$'` are not supported).",
      ),
    regex: z.boolean().default(false).describe('Treat `match` as a JavaScript regular expression.'),
    flags: z
      .string()
      .regex(ALLOWED_REGEX_FLAGS, FLAGS_MESSAGE)
      .optional()
      .describe('Regex flags among i, m, s, u (g is implied); regex rules only.'),
  })
  .strict();

const optionsSchema = z
  .object({
    rules: z
      .array(ruleSchema)
      .min(1)
      .describe('Replacements, applied one after the other (each rule sees the output of the previous one).'),
    scope: z
      .array(z.enum(['response', 'request']))
      .min(1)
      .default(['response'])
      .describe(
        'Where to replace: response text (streamed), request text (every message and the system prompt).',
      ),
    maxMatchLength: z
      .number()
      .int()
      .min(1)
      .max(MAX_MATCH_LENGTH_LIMIT)
      .default(DEFAULT_MAX_MATCH_LENGTH)
      .describe(
        'Regex rules: the longest match (lookarounds included) found in streamed text; up to twice that is held back.',
      ),
  })
  .strict()
  .superRefine((options, ctx) => {
    for (const [i, rule] of options.rules.entries()) {
      if (!rule.regex) {
        if (rule.flags !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'flags'],
            message: 'flags apply to regex rules only',
          });
        }
        continue;
      }
      const flags = rule.flags ?? '';
      if (!ALLOWED_REGEX_FLAGS.test(flags)) continue;
      const flagsError = regexError('', flags);
      if (flagsError !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'flags'], message: `rule ${i}: ${flagsError}` });
        continue;
      }
      const error = regexError(rule.match, flags);
      if (error !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'match'], message: `rule ${i}: ${error}` });
      }
      const unsupported = unsupportedReference(rule.replace);
      if (unsupported !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'replace'],
          message: `rule ${i}: ${unsupported} is not supported (streamed text has no whole prefix or suffix)`,
        });
      }
    }
  });

interface ReplaceState {
  /** The pipeline of the text block being streamed. */
  pipeline: ReplacePipeline | undefined;
  /** Replacements in the message so far. */
  count: number;
}

/**
 * `string-replace`: literal or regex replacements in response text (streamed, safe across chunk boundaries) and/or
 * request text.
 */
export const stringReplacePolicyType = definePolicyType({
  name: 'string-replace',
  description:
    'Replaces text in responses (while they stream, across chunk boundaries) and/or requests: literal strings or ' +
    'regular expressions, applied one rule after the other.',
  options: optionsSchema,
  create: (options, { name }): Policy => {
    const rules: Rule[] = options.rules.map((rule) =>
      rule.regex
        ? { kind: 'regex', regex: compileRegex(rule.match, rule.flags ?? ''), replace: rule.replace }
        : { kind: 'literal', match: rule.match, replace: rule.replace },
    );
    const pipeline = () => new ReplacePipeline(rules, options.maxMatchLength);
    const state = (ctx: PolicyContext) => ctx.state<ReplaceState>(() => ({ pipeline: undefined, count: 0 }));

    const requestHooks: Pick<Policy, 'onRequest'> | undefined = options.scope.includes('request')
      ? {
          onRequest: (ctx, request) => {
            let count = 0;
            const body = mapRequestText(request, (text) => {
              const p = pipeline();
              const out = p.push(text) + p.end();
              count += p.count;
              return out;
            });
            if (count === 0) return undefined;
            ctx.emit('replaced', { scope: 'request', count });
            return { action: 'forward', request: body };
          },
        }
      : undefined;

    const responseHooks: Pick<Policy, 'onTextDelta' | 'onTextComplete' | 'onFinish'> | undefined =
      options.scope.includes('response')
        ? {
            onTextDelta: (ctx, text) => {
              const s = state(ctx);
              s.pipeline ??= pipeline();
              return s.pipeline.push(text);
            },
            onTextComplete: (ctx) => {
              const s = state(ctx);
              const p = s.pipeline ?? pipeline();
              s.pipeline = undefined;
              const out = p.end();
              s.count += p.count;
              return out;
            },
            onFinish: (ctx) => {
              const { count } = state(ctx);
              if (count > 0) ctx.emit('replaced', { scope: 'response', count });
            },
          }
        : undefined;

    return { name, ...requestHooks, ...responseHooks };
  },
});
