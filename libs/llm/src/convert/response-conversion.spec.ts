import type { AnthropicResponse } from '../anthropic/anthropic.types';
import type { OpenAIResponse } from '../openai/openai.types';
import { RAW_ARGUMENTS_KEY } from './request-conversion';
import {
  anthropicResponseToOpenAI,
  chatCompletionIdOf,
  openAIResponseToAnthropic,
} from './response-conversion';

const anthropicUsage = {
  input_tokens: 10,
  output_tokens: 5,
  cache_read_input_tokens: 3,
  cache_creation_input_tokens: 2,
};

function anthropicResponse(extra: Partial<AnthropicResponse> = {}): AnthropicResponse {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-x',
    content: [{ type: 'text', text: 'hello' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage,
    ...extra,
  };
}

function openAIResponse(
  message: Partial<OpenAIResponse['choices'][number]['message']>,
  extra: Partial<OpenAIResponse> = {},
): OpenAIResponse {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-x',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: 20,
      completion_tokens: 4,
      total_tokens: 24,
      prompt_tokens_details: { cached_tokens: 15 },
    },
    ...extra,
  };
}

describe('anthropicResponseToOpenAI', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2025-01-01T00:00:00.500Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('gives the message a chat completion id, as the stream encoder does', () => {
    expect(anthropicResponseToOpenAI(anthropicResponse({ id: 'msg_7' })).id).toBe('chatcmpl-msg_7');
    expect(anthropicResponseToOpenAI(anthropicResponse({ id: 'chatcmpl-7' })).id).toBe('chatcmpl-7');
    expect(chatCompletionIdOf('msg_7')).toBe('chatcmpl-msg_7');
  });

  it('converts text, tool_use, stop reason and usage, dropping thinking', () => {
    const out = anthropicResponseToOpenAI(
      anthropicResponse({
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'text', text: 'Let me ' },
          { type: 'text', text: 'check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
      }),
    );
    expect(out).toEqual({
      id: 'chatcmpl-msg_1',
      object: 'chat.completion',
      created: 1735689600,
      model: 'claude-x',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Let me check.',
            refusal: null,
            tool_calls: [
              {
                id: 'toolu_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 15,
        completion_tokens: 5,
        total_tokens: 20,
        prompt_tokens_details: { cached_tokens: 3 },
      },
    });
  });

  it('gives null content when there is no text', () => {
    const out = anthropicResponseToOpenAI(
      anthropicResponse({
        content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }],
        stop_reason: 'tool_use',
      }),
    );
    expect(out.choices[0]?.message.content).toBeNull();
    const empty = anthropicResponseToOpenAI(anthropicResponse({ content: [], stop_reason: 'max_tokens' }));
    expect(empty.choices[0]?.message).toEqual({ role: 'assistant', content: null, refusal: null });
    expect(empty.choices[0]?.finish_reason).toBe('length');
  });

  it('maps refusal to content_filter', () => {
    expect(
      anthropicResponseToOpenAI(anthropicResponse({ stop_reason: 'refusal' })).choices[0]?.finish_reason,
    ).toBe('content_filter');
  });
});

describe('openAIResponseToAnthropic', () => {
  const weatherCall = {
    id: 'call_1',
    type: 'function' as const,
    function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
  };

  it('converts text, tool calls, finish reason and usage; keeps the id', () => {
    const res = openAIResponse({ content: 'Checking.', tool_calls: [weatherCall] });
    if (res.choices[0] !== undefined) res.choices[0].finish_reason = 'tool_calls';
    expect(openAIResponseToAnthropic(res)).toEqual({
      id: 'chatcmpl-1',
      type: 'message',
      role: 'assistant',
      model: 'gpt-x',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Rome' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 5,
        output_tokens: 4,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 15,
      },
    });
  });

  it('uses the first choice only', () => {
    const res = openAIResponse({ content: 'first' });
    res.choices.push({
      index: 1,
      message: { role: 'assistant', content: 'second' },
      finish_reason: 'length',
    });
    const out = openAIResponseToAnthropic(res);
    expect(out.content).toEqual([{ type: 'text', text: 'first' }]);
    expect(out.stop_reason).toBe('end_turn');
  });

  it('adds a refusal as text and skips empty content', () => {
    const out = openAIResponseToAnthropic(
      openAIResponse({ content: '', refusal: 'I cannot help with that.' }),
    );
    expect(out.content).toEqual([{ type: 'text', text: 'I cannot help with that.' }]);
  });

  it('never throws on bad arguments: empty -> {}, not an object -> raw wrapper', () => {
    const out = openAIResponseToAnthropic(
      openAIResponse({
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'f', arguments: '' } },
          { id: 'b', type: 'function', function: { name: 'f', arguments: '{"x":' } },
          { id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } },
        ],
      }),
    );
    expect(out.content).toEqual([
      { type: 'tool_use', id: 'a', name: 'f', input: {} },
      { type: 'tool_use', id: 'b', name: 'f', input: { [RAW_ARGUMENTS_KEY]: '{"x":' } },
      { type: 'tool_use', id: 'c', name: 'f', input: { [RAW_ARGUMENTS_KEY]: '[1]' } },
    ]);
  });

  it('survives a response without choices or usage', () => {
    const res = openAIResponse({}, { choices: [] });
    delete res.usage;
    expect(openAIResponseToAnthropic(res)).toEqual({
      id: 'chatcmpl-1',
      type: 'message',
      role: 'assistant',
      model: 'gpt-x',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 0,
        output_tokens: 0,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it('round-trips through anthropicResponseToOpenAI (text, tool calls, finish reason)', () => {
    const res = openAIResponse({ content: 'Checking.', tool_calls: [weatherCall] });
    const back = anthropicResponseToOpenAI(openAIResponseToAnthropic(res));
    expect(back.id).toBe(res.id);
    expect(back.choices[0]?.message.content).toBe('Checking.');
    expect(back.choices[0]?.message.tool_calls).toEqual([weatherCall]);
    expect(back.choices[0]?.finish_reason).toBe('stop');
    expect(back.usage).toEqual(res.usage);
  });

  it('restores raw arguments when the converted response comes back in a later request', () => {
    const res = openAIResponse({
      tool_calls: [{ id: 'b', type: 'function', function: { name: 'f', arguments: '{"x":' } }],
    });
    const back = anthropicResponseToOpenAI(openAIResponseToAnthropic(res));
    expect(back.choices[0]?.message.tool_calls?.[0]?.function.arguments).toBe('{"x":');
  });
});
