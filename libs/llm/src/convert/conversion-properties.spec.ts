import fc from 'fast-check';
import type {
  AnthropicContentBlock,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicTool,
} from '../anthropic/anthropic.types';
import type { JsonObject } from '../json';
import type {
  OpenAIContentPart,
  OpenAIMessage,
  OpenAIRequest,
  OpenAITool,
  OpenAIToolCall,
} from '../openai/openai.types';
import {
  anthropicRequestToOpenAI,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  openAIRequestToAnthropic,
} from './request-conversion';

const options = { defaultMaxTokens: DEFAULT_ANTHROPIC_MAX_TOKENS };
const NUM_RUNS = 300;
/** The schema both converters give a tool that declares none. */
const EMPTY_SCHEMA = { type: 'object', properties: {} };

/* ------------------------------------------------------------------------------------------------ */
/* arbitraries                                                                                      */
/* ------------------------------------------------------------------------------------------------ */

const anyText = fc.string({ maxLength: 12 });
const nonEmptyText = fc.string({ minLength: 1, maxLength: 12 });
const toolName = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
const base64 = fc.stringMatching(/^[A-Za-z0-9+/]{4,16}={0,2}$/);
const mediaType = fc.constantFrom('image/png', 'image/jpeg', 'image/gif', 'image/webp');
const httpUrl = fc.webUrl({ validSchemes: ['https', 'http'] });
/** Tool-call arguments: a JSON object serialised the way clients do. */
const argumentsText = fc
  .dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
  .map((value) => JSON.stringify(value));
const inputObject: fc.Arbitrary<JsonObject> = argumentsText.map((text) => JSON.parse(text) as JsonObject);

/** Unique tool-call ids for a whole conversation: drawn fresh with a counter. */
function idFactory(prefix: string): () => string {
  let next = 0;
  return () => `${prefix}_${next++}`;
}

const openAIImagePart: fc.Arbitrary<OpenAIContentPart> = fc.oneof(
  fc.tuple(mediaType, base64).map(([type, data]) => ({
    type: 'image_url',
    image_url: { url: `data:${type};base64,${data}` },
  })),
  httpUrl.map((url) => ({ type: 'image_url', image_url: { url } })),
);

function openAIUserContent(text: fc.Arbitrary<string>): fc.Arbitrary<string | OpenAIContentPart[]> {
  return fc.oneof(
    text,
    fc.array(
      fc.oneof(
        text.map((t): OpenAIContentPart => ({ type: 'text', text: t })),
        openAIImagePart,
      ),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  );
}

const openAITool: fc.Arbitrary<OpenAITool> = fc.record(
  {
    type: fc.constant('function' as const),
    function: fc.record(
      {
        name: toolName,
        description: anyText,
        parameters: fc.constant({ type: 'object', properties: { x: { type: 'string' } } }),
      },
      { requiredKeys: ['name'] },
    ),
  },
  { requiredKeys: ['type', 'function'] },
);

/** Messy but valid OpenAI message lists: any role order, empty strings, nulls, stray tool messages. */
const messyOpenAIMessages: fc.Arbitrary<OpenAIMessage[]> = fc.array(
  fc.oneof(
    fc.record({
      role: fc.constantFrom('system', 'developer'),
      content: fc.oneof(
        anyText,
        fc.array(
          anyText.map((text) => ({ type: 'text', text })),
          { maxLength: 2 },
        ),
      ),
    }),
    fc.record({ role: fc.constant('user'), content: openAIUserContent(anyText) }),
    fc.record({
      role: fc.constant('assistant'),
      content: fc.option(anyText),
      tool_calls: fc.array(
        fc.record({
          id: fc.stringMatching(/^call_[a-z0-9]{1,6}$/),
          type: fc.constant('function' as const),
          function: fc.record({ name: toolName, arguments: argumentsText }),
        }),
        { maxLength: 2 },
      ),
    }),
    fc.record({
      role: fc.constant('tool'),
      tool_call_id: fc.stringMatching(/^call_[a-z0-9]{1,6}$/),
      content: anyText,
    }),
  ),
  { minLength: 1, maxLength: 12 },
);

/**
 * Well-formed OpenAI conversations (what a real client sends): optional system, a user message, then rounds of
 * an assistant turn with text and/or tool calls, the tool messages answering every call, and optionally a user
 * message. Texts are non-empty (empty text is dropped by design, see compatibility.md).
 */
const wellFormedOpenAIMessages: fc.Arbitrary<OpenAIMessage[]> = fc
  .record({
    system: fc.option(nonEmptyText, { nil: undefined }),
    first: openAIUserContent(nonEmptyText),
    rounds: fc.array(
      fc.record({
        text: fc.option(nonEmptyText, { nil: undefined }),
        calls: fc.array(fc.record({ name: toolName, args: argumentsText, result: anyText }), {
          maxLength: 3,
        }),
        followUp: fc.option(openAIUserContent(nonEmptyText), { nil: undefined }),
      }),
      { maxLength: 4 },
    ),
  })
  .map(({ system, first, rounds }) => {
    const nextId = idFactory('call');
    const messages: OpenAIMessage[] = [];
    if (system !== undefined) messages.push({ role: 'system', content: system });
    messages.push({ role: 'user', content: first });
    for (const round of rounds) {
      const calls: OpenAIToolCall[] = round.calls.map((call) => ({
        id: nextId(),
        type: 'function',
        function: { name: call.name, arguments: call.args },
      }));
      const hasText = round.text !== undefined;
      if (!hasText && calls.length === 0) continue;
      const assistant: OpenAIMessage = { role: 'assistant', content: round.text ?? null };
      if (calls.length > 0) assistant.tool_calls = calls;
      messages.push(assistant);
      calls.forEach((call, k) => {
        messages.push({ role: 'tool', tool_call_id: call.id, content: round.calls[k]?.result ?? '' });
      });
      if (round.followUp !== undefined) messages.push({ role: 'user', content: round.followUp });
      else if (calls.length === 0) messages.push({ role: 'user', content: 'next' });
    }
    return messages;
  });

const anthropicImage: fc.Arbitrary<AnthropicContentBlock> = fc.oneof(
  fc.tuple(mediaType, base64).map(([type, data]) => ({
    type: 'image',
    source: { type: 'base64', media_type: type, data },
  })),
  httpUrl.map((url) => ({ type: 'image', source: { type: 'url', url } })),
);
const anthropicText: fc.Arbitrary<AnthropicContentBlock> = nonEmptyText.map((text) => ({
  type: 'text',
  text,
}));
const anthropicUserBlocks = fc.array(fc.oneof(anthropicText, anthropicImage), { minLength: 1, maxLength: 3 });

/**
 * Well-formed Anthropic conversations: alternating turns starting with user; assistant turns hold text then
 * tool_use blocks; the user turn after tool use starts with a tool_result per tool_use.
 */
const wellFormedAnthropicMessages: fc.Arbitrary<AnthropicMessageParam[]> = fc
  .record({
    first: fc.oneof(nonEmptyText, anthropicUserBlocks),
    rounds: fc.array(
      fc.record({
        texts: fc.array(nonEmptyText, { maxLength: 2 }),
        uses: fc.array(
          fc.record({
            name: toolName,
            input: inputObject,
            result: fc.option(fc.oneof(anyText, fc.array(anthropicText, { maxLength: 2 })), {
              nil: undefined,
            }),
          }),
          { maxLength: 3 },
        ),
        followUp: fc.option(anthropicUserBlocks, { nil: undefined }),
      }),
      { maxLength: 4 },
    ),
  })
  .map(({ first, rounds }) => {
    const nextId = idFactory('toolu');
    const messages: AnthropicMessageParam[] = [{ role: 'user', content: first }];
    for (const round of rounds) {
      const uses = round.uses.map((use) => ({ ...use, id: nextId() }));
      const assistant: AnthropicContentBlock[] = [
        ...round.texts.map((text) => ({ type: 'text', text })),
        ...uses.map((use) => ({ type: 'tool_use', id: use.id, name: use.name, input: use.input })),
      ];
      if (assistant.length === 0) continue;
      messages.push({ role: 'assistant', content: assistant });
      const user: AnthropicContentBlock[] = uses.map((use) =>
        use.result === undefined
          ? { type: 'tool_result', tool_use_id: use.id }
          : { type: 'tool_result', tool_use_id: use.id, content: use.result },
      );
      user.push(...(round.followUp ?? []));
      if (user.length === 0) user.push({ type: 'text', text: 'next' });
      messages.push({ role: 'user', content: user });
    }
    return messages;
  });

const anthropicTool: fc.Arbitrary<AnthropicTool> = fc.record(
  {
    name: toolName,
    description: anyText,
    input_schema: fc.constant({ type: 'object', properties: { x: { type: 'string' } } }),
  },
  { requiredKeys: ['name'] },
);

/* ------------------------------------------------------------------------------------------------ */
/* normalisers: the facts a conversion must keep, independent of message boundaries                  */
/* ------------------------------------------------------------------------------------------------ */

type Fact =
  | { kind: 'text'; role: string; text: string }
  | { kind: 'image'; url: string }
  | { kind: 'call'; id: string; name: string; input: unknown }
  | { kind: 'result'; id: string; text: string };

function openAIFacts(messages: OpenAIMessage[]): Fact[] {
  const facts: Fact[] = [];
  for (const message of messages) {
    if (message.role === 'system' || message.role === 'developer') continue;
    if (message.role === 'tool') {
      facts.push({ kind: 'result', id: message.tool_call_id ?? '', text: contentText(message.content) });
      continue;
    }
    const content = message.content;
    if (typeof content === 'string') facts.push({ kind: 'text', role: message.role, text: content });
    else {
      for (const part of content ?? []) {
        if (part.type === 'text') facts.push({ kind: 'text', role: message.role, text: String(part.text) });
        else facts.push({ kind: 'image', url: (part.image_url as { url: string }).url });
      }
    }
    for (const call of message.tool_calls ?? []) {
      facts.push({
        kind: 'call',
        id: call.id,
        name: call.function.name,
        input: JSON.parse(call.function.arguments),
      });
    }
  }
  return facts;
}

/** True when a user message keeps at least one block after conversion (empty text is dropped). */
function userHasContent(message: OpenAIMessage): boolean {
  const content = message.content;
  if (typeof content === 'string') return content !== '';
  return (content ?? []).some((part) => part.type !== 'text' || part.text !== '');
}

function contentText(content: OpenAIMessage['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => String(part.text)).join('');
}

/** Anthropic blocks with adjacent text merged (OpenAI concatenates assistant text) and results flattened. */
function anthropicShape(messages: AnthropicMessageParam[]): unknown[] {
  return messages.map((message) => {
    const blocks: AnthropicContentBlock[] =
      typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    const shaped: unknown[] = [];
    for (const block of blocks) {
      const last = shaped.at(-1) as { type?: string; text?: string } | undefined;
      if (block.type === 'text' && last?.type === 'text')
        last.text = `${last.text ?? ''}${String(block.text)}`;
      else if (block.type === 'text') shaped.push({ type: 'text', text: block.text });
      else if (block.type === 'tool_result') {
        const content = block.content;
        const text =
          typeof content === 'string'
            ? content
            : Array.isArray(content)
              ? (content as AnthropicContentBlock[]).map((inner) => String(inner.text)).join('\n')
              : '';
        shaped.push({ type: 'tool_result', tool_use_id: block.tool_use_id, text });
      } else shaped.push(block);
    }
    return { role: message.role, blocks: shaped };
  });
}

function textBlocksOf(content: AnthropicMessageParam['content']): string[] {
  if (typeof content === 'string') return [content];
  return content.flatMap((block) => (block.type === 'text' ? [String(block.text)] : []));
}

/* ------------------------------------------------------------------------------------------------ */
/* properties                                                                                       */
/* ------------------------------------------------------------------------------------------------ */

describe('openAIRequestToAnthropic properties', () => {
  const convertible = messyOpenAIMessages.filter((messages) =>
    messages.some(
      (m) =>
        m.role === 'tool' ||
        (m.role === 'assistant' && ((m.tool_calls?.length ?? 0) > 0 || (m.content ?? '') !== '')) ||
        (m.role === 'user' && userHasContent(m)),
    ),
  );

  it('always yields non-empty, alternating turns; user first when the input starts with user or tool', () => {
    fc.assert(
      fc.property(convertible, (messages) => {
        const out = openAIRequestToAnthropic({ model: 'm', messages }, options);
        out.messages.forEach((message, i) => {
          expect(message.content.length).toBeGreaterThan(0);
          if (i > 0) expect(message.role).not.toBe(out.messages[i - 1]?.role);
        });
        const firstTurn = messages.find((m) => m.role !== 'system' && m.role !== 'developer');
        const userFirst =
          firstTurn?.role === 'tool' || (firstTurn?.role === 'user' && userHasContent(firstTurn));
        if (userFirst) expect(out.messages[0]?.role).toBe('user');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('puts tool_result blocks first in every user turn', () => {
    fc.assert(
      fc.property(convertible, (messages) => {
        const out = openAIRequestToAnthropic({ model: 'm', messages }, options);
        for (const message of out.messages) {
          if (typeof message.content === 'string') continue;
          const types = message.content.map((block) => block.type);
          const firstOther = types.findIndex((type) => type !== 'tool_result');
          if (firstOther >= 0) expect(types.slice(firstOther)).not.toContain('tool_result');
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('preserves every non-empty text in order (system texts in system, the rest in messages)', () => {
    fc.assert(
      fc.property(convertible, (messages) => {
        const out = openAIRequestToAnthropic({ model: 'm', messages }, options);
        const expectedSystem: string[] = [];
        const expectedTexts: string[] = [];
        for (const m of messages) {
          if (m.role === 'tool') continue;
          const texts =
            typeof m.content === 'string'
              ? [m.content]
              : (m.content ?? []).flatMap((part) => (part.type === 'text' ? [String(part.text)] : []));
          const target = m.role === 'system' || m.role === 'developer' ? expectedSystem : expectedTexts;
          target.push(...texts.filter((text) => text !== ''));
        }
        const system =
          out.system === undefined ? [] : typeof out.system === 'string' ? [out.system] : out.system;
        expect(system.map((block) => (typeof block === 'string' ? block : block.text))).toEqual(
          expectedSystem,
        );
        expect(out.messages.flatMap((m) => textBlocksOf(m.content))).toEqual(expectedTexts);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('starts with a user turn for well-formed conversations', () => {
    fc.assert(
      fc.property(wellFormedOpenAIMessages, (messages) => {
        const out = openAIRequestToAnthropic({ model: 'm', messages }, options);
        expect(out.messages[0]?.role).toBe('user');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('answers every tool_use in the next user turn with a matching tool_result', () => {
    fc.assert(
      fc.property(wellFormedOpenAIMessages, (messages) => {
        const out = openAIRequestToAnthropic({ model: 'm', messages }, options);
        out.messages.forEach((message, i) => {
          if (message.role !== 'assistant' || typeof message.content === 'string') return;
          const ids = message.content.flatMap((block) =>
            block.type === 'tool_use' ? [String(block.id)] : [],
          );
          if (ids.length === 0) return;
          const next = out.messages[i + 1];
          expect(next?.role).toBe('user');
          const resultIds =
            next === undefined || typeof next.content === 'string'
              ? []
              : next.content.flatMap((block) =>
                  block.type === 'tool_result' ? [String(block.tool_use_id)] : [],
                );
          expect(resultIds).toEqual(ids);
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('round-trips OpenAI -> Anthropic -> OpenAI keeping texts, images, tool calls, results and tools', () => {
    const request: fc.Arbitrary<OpenAIRequest> = fc.record(
      {
        model: fc.constant('m'),
        messages: wellFormedOpenAIMessages,
        tools: fc.array(openAITool, { minLength: 1, maxLength: 3 }),
        tool_choice: fc.constantFrom('auto' as const, 'none' as const, 'required' as const),
        parallel_tool_calls: fc.constant(false),
        stop: fc.array(nonEmptyText, { minLength: 1, maxLength: 3 }),
        temperature: fc.double({ min: 0, max: 1, noNaN: true }),
        max_completion_tokens: fc.integer({ min: 1, max: 100_000 }),
        user: nonEmptyText,
        stream: fc.boolean(),
      },
      { requiredKeys: ['model', 'messages'] },
    );
    fc.assert(
      fc.property(request, (req) => {
        const back = anthropicRequestToOpenAI(openAIRequestToAnthropic(req, options));
        expect(openAIFacts(back.messages)).toEqual(openAIFacts(req.messages));
        const system = req.messages.filter((m) => m.role === 'system').map((m) => m.content);
        expect(back.messages.filter((m) => m.role === 'system').map((m) => m.content)).toEqual(system);
        const tools = req.tools ?? [];
        const withSchemas = tools.map((tool) => ({
          ...tool,
          function: { ...tool.function, parameters: tool.function.parameters ?? EMPTY_SCHEMA },
        }));
        expect(back.tools).toEqual(tools.length > 0 ? withSchemas : undefined);
        if (tools.length > 0) {
          // parallel_tool_calls:false alone becomes {type:'auto', disable_parallel_tool_use:true}, i.e. 'auto'
          const impliedChoice = req.parallel_tool_calls === false ? 'auto' : undefined;
          expect(back.tool_choice).toEqual(req.tool_choice ?? impliedChoice);
          expect(back.parallel_tool_calls).toBe(
            req.tool_choice === 'none' ? undefined : req.parallel_tool_calls,
          );
        }
        expect(back.stop).toEqual(req.stop);
        expect(back.temperature).toBe(req.temperature);
        expect(back.max_completion_tokens).toBe(req.max_completion_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS);
        expect(back.user).toBe(req.user);
        expect(back.stream).toBe(req.stream);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('anthropicRequestToOpenAI properties', () => {
  it('round-trips Anthropic -> OpenAI -> Anthropic keeping text, image, tool_use and tool_result structure', () => {
    const request: fc.Arbitrary<AnthropicRequest> = fc.record(
      {
        model: fc.constant('m'),
        max_tokens: fc.integer({ min: 1, max: 100_000 }),
        messages: wellFormedAnthropicMessages,
        system: nonEmptyText,
        tools: fc.array(anthropicTool, { minLength: 1, maxLength: 3 }),
        stop_sequences: fc.array(nonEmptyText, { minLength: 1, maxLength: 3 }),
        top_p: fc.double({ min: 0, max: 1, noNaN: true }),
      },
      { requiredKeys: ['model', 'max_tokens', 'messages'] },
    );
    fc.assert(
      fc.property(request, (req) => {
        const back = openAIRequestToAnthropic(anthropicRequestToOpenAI(req), options);
        expect(anthropicShape(back.messages)).toEqual(anthropicShape(req.messages));
        expect(back.system).toBe(req.system);
        expect(back.tools).toEqual(
          req.tools?.map((tool) => ({ ...tool, input_schema: tool.input_schema ?? EMPTY_SCHEMA })),
        );
        expect(back.stop_sequences).toEqual(req.stop_sequences);
        expect(back.top_p).toBe(req.top_p);
        expect(back.max_tokens).toBe(req.max_tokens);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('emits one tool message per tool_result, right after the assistant message that called it', () => {
    fc.assert(
      fc.property(wellFormedAnthropicMessages, (messages) => {
        const out = anthropicRequestToOpenAI({ model: 'm', max_tokens: 1, messages });
        out.messages.forEach((message, i) => {
          const calls = message.tool_calls ?? [];
          if (calls.length === 0) return;
          const following = out.messages.slice(i + 1, i + 1 + calls.length);
          expect(following.map((m) => [m.role, m.tool_call_id])).toEqual(calls.map((c) => ['tool', c.id]));
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('round-trips tool_choice and disable_parallel_tool_use', () => {
    const choice = fc.oneof(
      fc.record({
        type: fc.constantFrom('auto' as const, 'any' as const),
        disable_parallel_tool_use: fc.constant(true),
      }),
      fc.constant({ type: 'none' as const }),
      fc.record({ type: fc.constant('tool' as const), name: toolName }),
    );
    fc.assert(
      fc.property(choice, (toolChoice) => {
        const req: AnthropicRequest = {
          model: 'm',
          max_tokens: 10,
          messages: [{ role: 'user', content: 'x' }],
          tools: [{ name: 'f', input_schema: { type: 'object' } }],
          tool_choice: toolChoice,
        };
        expect(openAIRequestToAnthropic(anthropicRequestToOpenAI(req), options).tool_choice).toEqual(
          toolChoice,
        );
      }),
    );
  });
});
