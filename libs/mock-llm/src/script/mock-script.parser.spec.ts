import fc from 'fast-check';
import { MockScriptError } from './mock-script.error';
import {
  EMPTY_MOCK_SCRIPT,
  findMockScriptSource,
  mockScriptFromRequest,
  mockScriptTag,
  parseMockScript,
} from './mock-script.parser';
import type { MockScript } from './mock-script.types';

describe('parseMockScript', () => {
  it('accepts JSON text and parsed values', () => {
    const script: MockScript = {
      words: 3,
      tools: [
        { name: 'get', arguments: { a: 1 } },
        { name: 'raw', arguments: '{"x' },
      ],
      usage: { output_tokens: 7 },
    };
    expect(parseMockScript(JSON.stringify(script))).toEqual(script);
    expect(parseMockScript(script)).toEqual(script);
  });

  it('refuses invalid JSON, unknown keys, wrong types and text with words', () => {
    expect(() => parseMockScript('{nope')).toThrow(MockScriptError);
    expect(() => parseMockScript({ wordz: 3 })).toThrow(/Unrecognized key/);
    expect(() => parseMockScript({ words: -1 })).toThrow(/words/);
    expect(() => parseMockScript({ status: 200 })).toThrow(/status/);
    expect(() => parseMockScript({ tools: [{ arguments: {} }] })).toThrow(/tools\.0\.name/);
    expect(() => parseMockScript({ text: 'a', words: 2 })).toThrow(/exclusive/);
    expect(() => parseMockScript({ stopReason: 'stop' })).toThrow(/stopReason/);
  });
});

describe('mockScriptFromRequest', () => {
  const tagged = (script: MockScript): string => `Please answer. ${mockScriptTag(script)}`;

  it('prefers the header over the messages', () => {
    const body = { messages: [{ role: 'user', content: tagged({ words: 2 }) }] };
    expect(mockScriptFromRequest('{"text":"from header"}', body)).toEqual({ text: 'from header' });
    expect(mockScriptFromRequest(['{"words":1}', '{"words":9}'], body)).toEqual({ words: 9 });
  });

  it('returns the shared empty script when nothing is scripted', () => {
    expect(mockScriptFromRequest(undefined, { messages: [{ role: 'user', content: 'hi' }] })).toBe(
      EMPTY_MOCK_SCRIPT,
    );
    expect(mockScriptFromRequest('  ', undefined)).toBe(EMPTY_MOCK_SCRIPT);
  });

  it('reads OpenAI string content and text parts of the last user message', () => {
    const body = {
      messages: [
        { role: 'system', content: tagged({ text: 'system is ignored' }) },
        { role: 'user', content: tagged({ text: 'old turn' }) },
        { role: 'assistant', content: 'ok' },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:,' } },
            { type: 'text', text: tagged({ words: 4 }) },
          ],
        },
      ],
    };
    expect(mockScriptFromRequest(undefined, body)).toEqual({ words: 4 });
  });

  it('reads Anthropic text blocks, the last tag winning', () => {
    const body = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: tagged({ words: 1 }) },
            { type: 'text', text: `<system-reminder>x</system-reminder> ${tagged({ thinking: 'hmm' })}` },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'prefill' }] },
      ],
    };
    expect(mockScriptFromRequest(undefined, body)).toEqual({ thinking: 'hmm' });
  });

  it('treats a tool round as the user turn: tool results may script the next reply', () => {
    const toolCall = { role: 'assistant', content: null, tool_calls: [] };
    const first = { role: 'user', content: tagged({ tools: [{ name: 'a' }] }) };
    expect(
      findMockScriptSource({ messages: [first, toolCall, { role: 'tool', content: 'result' }] }),
    ).toBeUndefined();
    expect(
      mockScriptFromRequest(undefined, {
        messages: [first, toolCall, { role: 'tool', content: tagged({ text: 'done' }) }],
      }),
    ).toEqual({ text: 'done' });
    const anthropicResult = {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: tagged({ words: 2 }) }] },
      ],
    };
    expect(mockScriptFromRequest(undefined, { messages: [first, anthropicResult] })).toEqual({ words: 2 });
  });

  it('reports unterminated tags and invalid tagged scripts', () => {
    expect(() =>
      mockScriptFromRequest(undefined, { messages: [{ role: 'user', content: '<mock>{}' }] }),
    ).toThrow(/unterminated/);
    expect(() =>
      mockScriptFromRequest(undefined, { messages: [{ role: 'user', content: '<mock>{"x":1}</mock>' }] }),
    ).toThrow(MockScriptError);
  });

  it('round-trips any valid script through a tag (property)', () => {
    const scripts = fc.record(
      {
        text: fc.string(),
        wordsPerChunk: fc.integer({ min: 1, max: 50 }),
        thinking: fc.string(),
        tools: fc.array(
          fc.record({
            name: fc.string({ minLength: 1 }),
            arguments: fc.dictionary(fc.string(), fc.jsonValue()),
          }),
        ),
        ttftMs: fc.nat({ max: 1000 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(scripts, fc.string(), (script, prefix) => {
        const content = `${prefix.replaceAll('<mock>', '')} ${mockScriptTag(script)}`;
        const parsed = mockScriptFromRequest(undefined, { messages: [{ role: 'user', content }] });
        expect(parsed).toEqual(JSON.parse(JSON.stringify(script)));
      }),
    );
  });
});

describe('failFirst', () => {
  it('accepts failFirst with a scriptId', () => {
    expect(parseMockScript('{"status":503,"failFirst":2,"scriptId":"a"}')).toEqual({
      status: 503,
      failFirst: 2,
      scriptId: 'a',
    });
  });

  it('refuses failFirst without a scriptId, naming it', () => {
    expect(() => parseMockScript('{"status":503,"failFirst":2}')).toThrow(/failFirst/);
  });
});
