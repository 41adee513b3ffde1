import type { AnthropicRequest } from '../anthropic/anthropic.types';
import type { OpenAIMessage, OpenAIRequest } from '../openai/openai.types';
import { ConversionError } from './conversion.exception';
import {
  anthropicRequestToOpenAI,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  openAIRequestToAnthropic,
  RAW_ARGUMENTS_KEY,
  TOOL_ERROR_PREFIX,
} from './request-conversion';

const options = { defaultMaxTokens: DEFAULT_ANTHROPIC_MAX_TOKENS };

function openAI(messages: OpenAIMessage[], extra: Partial<OpenAIRequest> = {}): OpenAIRequest {
  return { model: 'm', messages, ...extra };
}

function anthropic(extra: Partial<AnthropicRequest> = {}): AnthropicRequest {
  return { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...extra };
}

/** Runs `fn` and returns the ConversionError it throws. */
function conversionError(fn: () => unknown): ConversionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConversionError) return error;
    throw error;
  }
  throw new Error('expected a ConversionError');
}

const getWeather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe('openAIRequestToAnthropic', () => {
  it('converts a minimal request with the default max_tokens', () => {
    expect(openAIRequestToAnthropic(openAI([{ role: 'user', content: 'hi' }]), options)).toEqual({
      model: 'm',
      max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
  });

  it('prefers max_completion_tokens over max_tokens over the default', () => {
    const msgs: OpenAIMessage[] = [{ role: 'user', content: 'hi' }];
    expect(openAIRequestToAnthropic(openAI(msgs, { max_tokens: 50 }), options).max_tokens).toBe(50);
    expect(
      openAIRequestToAnthropic(openAI(msgs, { max_tokens: 50, max_completion_tokens: 70 }), options)
        .max_tokens,
    ).toBe(70);
    expect(
      openAIRequestToAnthropic(openAI(msgs, { max_tokens: null }), { defaultMaxTokens: 9 }).max_tokens,
    ).toBe(9);
  });

  describe('system', () => {
    it('a single string system message becomes a string', () => {
      const out = openAIRequestToAnthropic(
        openAI([
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
        ]),
        options,
      );
      expect(out.system).toBe('be brief');
    });

    it('several system/developer messages, anywhere, become text blocks in order', () => {
      const out = openAIRequestToAnthropic(
        openAI([
          { role: 'system', content: 'one' },
          { role: 'user', content: 'hi' },
          { role: 'developer', content: 'two' },
          { role: 'assistant', content: 'hello' },
        ]),
        options,
      );
      expect(out.system).toEqual([
        { type: 'text', text: 'one' },
        { type: 'text', text: 'two' },
      ]);
      expect(out.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    });

    it('a system message with parts becomes text blocks', () => {
      const out = openAIRequestToAnthropic(
        openAI([
          { role: 'system', content: [{ type: 'text', text: 'a' }] },
          { role: 'user', content: 'hi' },
        ]),
        options,
      );
      expect(out.system).toEqual([{ type: 'text', text: 'a' }]);
    });

    it('rejects non-text system parts', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(
          openAI([
            { role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
            { role: 'user', content: 'hi' },
          ]),
          options,
        ),
      );
      expect(error.param).toBe('messages[0].content[0]');
    });
  });

  describe('user content', () => {
    it('converts text and images (data URL -> base64, http -> url)', () => {
      const out = openAIRequestToAnthropic(
        openAI([
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'high' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            ],
          },
        ]),
        options,
      );
      expect(out.messages[0]?.content).toEqual([
        { type: 'text', text: 'look' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      ]);
    });

    it('converts an inline PDF file part into a document block', () => {
      const out = openAIRequestToAnthropic(
        openAI([
          {
            role: 'user',
            content: [
              { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBE' } },
            ],
          },
        ]),
        options,
      );
      expect(out.messages[0]?.content).toEqual([
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } },
      ]);
    });

    it.each([
      [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }, 'messages[0].content[0].image_url.url'],
      [
        { type: 'image_url', image_url: { url: 'data:image/svg+xml,<svg/>' } },
        'messages[0].content[0].image_url.url',
      ],
      [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }, 'messages[0].content[0]'],
      [{ type: 'file', file: { file_id: 'file-1' } }, 'messages[0].content[0]'],
    ])('rejects %j', (part, param) => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(openAI([{ role: 'user', content: [part] }]), options),
      );
      expect(error.param).toBe(param);
    });

    it('drops empty text (Anthropic rejects empty text blocks)', () => {
      const out = openAIRequestToAnthropic(
        openAI([
          {
            role: 'user',
            content: [
              { type: 'text', text: '' },
              { type: 'text', text: 'x' },
            ],
          },
          { role: 'assistant', content: '' },
          { role: 'user', content: 'y' },
        ]),
        options,
      );
      expect(out.messages).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'x' },
            { type: 'text', text: 'y' },
          ],
        },
      ]);
    });
  });

  describe('assistant and tool messages', () => {
    const conversation: OpenAIMessage[] = [
      { role: 'user', content: 'weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rainy' }] },
      { role: 'user', content: 'thanks' },
    ];

    it('turns tool_calls into tool_use and merges tool results with the next user message', () => {
      const out = openAIRequestToAnthropic(openAI(conversation, { tools: [getWeather] }), options);
      expect(out.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: 'rainy' }] },
            { type: 'text', text: 'thanks' },
          ],
        },
      ]);
    });

    it('puts tool results first when a user message precedes them', () => {
      const out = openAIRequestToAnthropic(
        openAI([
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '' } }],
          },
          { role: 'user', content: 'hurry' },
          { role: 'tool', tool_call_id: 'c', content: '' },
        ]),
        options,
      );
      expect(out.messages[1]?.content).toEqual([{ type: 'tool_use', id: 'c', name: 'f', input: {} }]);
      expect(out.messages[2]?.content).toEqual([
        { type: 'tool_result', tool_use_id: 'c' },
        { type: 'text', text: 'hurry' },
      ]);
    });

    it('merges consecutive assistant messages', () => {
      const out = openAIRequestToAnthropic(
        openAI([
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'a' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'b' },
              { type: 'refusal', refusal: 'no' },
            ],
          },
        ]),
        options,
      );
      expect(out.messages[1]).toEqual({
        role: 'assistant',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
          { type: 'text', text: 'no' },
        ],
      });
    });

    it.each(['{"city":', '[1,2]', '"text"'])('rejects arguments %s that are not a JSON object', (args) => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(
          openAI([
            { role: 'user', content: 'hi' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'ok', type: 'function', function: { name: 'f', arguments: '{}' } },
                { id: 'bad', type: 'function', function: { name: 'f', arguments: args } },
              ],
            },
          ]),
          options,
        ),
      );
      expect(error.param).toBe('messages[1].tool_calls[1].function.arguments');
    });

    it('rejects a tool message without tool_call_id', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(openAI([{ role: 'tool', content: 'x' }]), options),
      );
      expect(error.param).toBe('messages[0].tool_call_id');
    });

    it('rejects unknown roles', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(openAI([{ role: 'function', name: 'f', content: 'x' }]), options),
      );
      expect(error.param).toBe('messages[0].role');
    });

    it('rejects a request with only system messages', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(openAI([{ role: 'system', content: 'x' }]), options),
      );
      expect(error.param).toBe('messages');
    });
  });

  describe('tools', () => {
    it('converts tools, defaulting missing parameters', () => {
      const out = openAIRequestToAnthropic(
        openAI([{ role: 'user', content: 'hi' }], {
          tools: [getWeather, { type: 'function', function: { name: 'now', strict: true } }],
        }),
        options,
      );
      expect(out.tools).toEqual([
        {
          name: 'get_weather',
          description: 'Weather for a city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
        },
        { name: 'now', input_schema: { type: 'object', properties: {} } },
      ]);
      expect(out.tool_choice).toBeUndefined();
    });

    it.each([
      ['auto', undefined, { type: 'auto' }],
      ['none', undefined, { type: 'none' }],
      ['required', undefined, { type: 'any' }],
      [
        { type: 'function', function: { name: 'get_weather' } },
        undefined,
        { type: 'tool', name: 'get_weather' },
      ],
      ['required', false, { type: 'any', disable_parallel_tool_use: true }],
      [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
      ['none', false, { type: 'none' }],
      [undefined, true, undefined],
    ] as const)('tool_choice %j with parallel_tool_calls %s -> %j', (choice, parallel, expected) => {
      const req = openAI([{ role: 'user', content: 'hi' }], { tools: [getWeather] });
      if (choice !== undefined) req.tool_choice = choice;
      if (parallel !== undefined) req.parallel_tool_calls = parallel;
      expect(openAIRequestToAnthropic(req, options).tool_choice).toEqual(expected);
    });

    it('drops tool_choice and parallel_tool_calls when there are no tools', () => {
      const out = openAIRequestToAnthropic(
        openAI([{ role: 'user', content: 'hi' }], { tool_choice: 'auto', parallel_tool_calls: false }),
        options,
      );
      expect(out.tool_choice).toBeUndefined();
      expect(out.tools).toBeUndefined();
    });

    it('rejects non-function tools', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(
          openAI([{ role: 'user', content: 'hi' }], {
            tools: [getWeather, { type: 'custom', custom: { name: 'x' } } as unknown as typeof getWeather],
          }),
          options,
        ),
      );
      expect(error.param).toBe('tools[1]');
    });
  });

  describe('sampling and other fields', () => {
    it('maps stop, temperature, top_p, stream and user; drops what Anthropic lacks', () => {
      const out = openAIRequestToAnthropic(
        openAI([{ role: 'user', content: 'hi' }], {
          stop: 'END',
          temperature: 1.5,
          top_p: 0.9,
          stream: true,
          stream_options: { include_usage: true },
          user: 'u-1',
          seed: 1,
          logprobs: true,
          top_logprobs: 2,
          frequency_penalty: 0.5,
          presence_penalty: 0.5,
          logit_bias: { '1': 2 },
          n: 1,
          response_format: { type: 'json_object' },
          metadata: { a: 'b' },
        }),
        options,
      );
      expect(out).toEqual({
        model: 'm',
        max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
        stop_sequences: ['END'],
        temperature: 1.5,
        top_p: 0.9,
        stream: true,
        metadata: { user_id: 'u-1' },
      });
    });

    it('passes stop arrays and ignores null fields', () => {
      const out = openAIRequestToAnthropic(
        openAI([{ role: 'user', content: 'hi' }], {
          stop: ['a', 'b'],
          temperature: null,
          top_p: null,
          stream: null,
        }),
        options,
      );
      expect(out.stop_sequences).toEqual(['a', 'b']);
      expect(out).not.toHaveProperty('temperature');
      expect(out).not.toHaveProperty('top_p');
      expect(out).not.toHaveProperty('stream');
    });

    it('rejects n > 1', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(openAI([{ role: 'user', content: 'hi' }], { n: 2 }), options),
      );
      expect(error.param).toBe('n');
    });

    it('rejects response_format json_schema', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(
          openAI([{ role: 'user', content: 'hi' }], {
            response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } },
          }),
          options,
        ),
      );
      expect(error.param).toBe('response_format');
      expect(error).toBeInstanceOf(Error);
    });

    it('rejects the legacy functions field', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(openAI([{ role: 'user', content: 'hi' }], { functions: [] }), options),
      );
      expect(error.param).toBe('functions');
    });
  });

  describe('reasoning_effort', () => {
    it.each([
      ['low', 1024],
      ['medium', 4096],
      ['high', 16384],
    ])('%s enables thinking with a budget of %i', (effort, budget) => {
      const out = openAIRequestToAnthropic(
        openAI([{ role: 'user', content: 'hi' }], {
          reasoning_effort: effort,
          max_completion_tokens: 100_000,
        }),
        options,
      );
      expect(out.thinking).toEqual({ type: 'enabled', budget_tokens: budget });
      expect(out.max_tokens).toBe(100_000);
    });

    it('raises max_tokens above the budget', () => {
      const out = openAIRequestToAnthropic(
        openAI([{ role: 'user', content: 'hi' }], { reasoning_effort: 'high', max_tokens: 1000 }),
        options,
      );
      expect(out.max_tokens).toBe(17384);
      expect(out.max_tokens).toBeGreaterThan(16384);
    });

    it('removes temperature and a low top_p, which Anthropic refuses with thinking', () => {
      const out = openAIRequestToAnthropic(
        openAI([{ role: 'user', content: 'hi' }], { reasoning_effort: 'low', temperature: 0.2, top_p: 0.5 }),
        options,
      );
      expect(out).not.toHaveProperty('temperature');
      expect(out).not.toHaveProperty('top_p');
      const kept = openAIRequestToAnthropic(
        openAI([{ role: 'user', content: 'hi' }], { reasoning_effort: 'low', top_p: 0.97 }),
        options,
      );
      expect(kept.top_p).toBe(0.97);
    });

    it('minimal and none send no thinking', () => {
      for (const effort of ['minimal', 'none']) {
        const out = openAIRequestToAnthropic(
          openAI([{ role: 'user', content: 'hi' }], { reasoning_effort: effort }),
          options,
        );
        expect(out).not.toHaveProperty('thinking');
      }
    });

    it('rejects unknown efforts', () => {
      const error = conversionError(() =>
        openAIRequestToAnthropic(
          openAI([{ role: 'user', content: 'hi' }], { reasoning_effort: 'max' }),
          options,
        ),
      );
      expect(error.param).toBe('reasoning_effort');
    });

    it('does not enable thinking where Anthropic would reject it', () => {
      const toolLoop: OpenAIMessage[] = [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c', content: 'done' },
      ];
      const prefill: OpenAIMessage[] = [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: 'Sure' },
      ];
      const cases: OpenAIRequest[] = [
        openAI(toolLoop, { reasoning_effort: 'high' }),
        openAI(prefill, { reasoning_effort: 'high' }),
        openAI([{ role: 'user', content: 'x' }], {
          reasoning_effort: 'high',
          tools: [getWeather],
          tool_choice: 'required',
        }),
      ];
      for (const req of cases) expect(openAIRequestToAnthropic(req, options)).not.toHaveProperty('thinking');
    });
  });
});

describe('anthropicRequestToOpenAI', () => {
  it('converts a minimal request', () => {
    expect(anthropicRequestToOpenAI(anthropic())).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      max_completion_tokens: 100,
    });
  });

  it('turns system (string or text blocks) into one leading system message', () => {
    expect(anthropicRequestToOpenAI(anthropic({ system: 'be brief' })).messages[0]).toEqual({
      role: 'system',
      content: 'be brief',
    });
    const blocks = anthropicRequestToOpenAI(
      anthropic({
        system: [
          { type: 'text', text: 'one', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'two' },
        ],
      }),
    );
    expect(blocks.messages[0]).toEqual({ role: 'system', content: 'one\n\ntwo' });
    expect(anthropicRequestToOpenAI(anthropic({ system: [] })).messages).toHaveLength(1);
  });

  it('converts user text and images', () => {
    const out = anthropicRequestToOpenAI(
      anthropic({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look', cache_control: { type: 'ephemeral' } },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            ],
          },
        ],
      }),
    );
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('converts documents: text and content sources to text, base64 PDF to a file part', () => {
    const out = anthropicRequestToOpenAI(
      anthropic({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain doc' } },
              {
                type: 'document',
                source: { type: 'content', content: [{ type: 'text', text: 'chunk' }, { type: 'image' }] },
              },
              {
                type: 'document',
                title: 'spec.pdf',
                source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' },
              },
            ],
          },
        ],
      }),
    );
    expect(out.messages[0]?.content).toEqual([
      { type: 'text', text: 'plain doc' },
      { type: 'text', text: 'chunk' },
      { type: 'file', file: { filename: 'spec.pdf', file_data: 'data:application/pdf;base64,JVBE' } },
    ]);
  });

  it.each([
    [{ type: 'document', source: { type: 'url', url: 'https://x/y.pdf' } }],
    [{ type: 'document', source: { type: 'file', file_id: 'f' } }],
    [{ type: 'image', source: { type: 'file', file_id: 'f' } }],
    [{ type: 'search_result', source: 'x', title: 't', content: [] }],
    [{ type: 'tool_use', id: 'x', name: 'f', input: {} }],
  ])('rejects user block %j', (block) => {
    const error = conversionError(() =>
      anthropicRequestToOpenAI(
        anthropic({
          messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, block] }],
        }),
      ),
    );
    expect(error.param).toBe('messages[0].content[1]');
  });

  it('converts a tool loop: tool_use -> tool_calls, tool_result -> tool messages before user text', () => {
    const out = anthropicRequestToOpenAI(
      anthropic({
        messages: [
          { role: 'user', content: 'weather?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 'sig' },
              { type: 'text', text: 'Checking ' },
              { type: 'text', text: 'now.' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
              { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'also this' },
              { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'sunny' }] },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: 'noon', is_error: true },
            ],
          },
        ],
      }),
    );
    expect(out.messages).toEqual([
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: 'Checking now.',
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'toolu_2', type: 'function', function: { name: 'now', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'toolu_2', content: `${TOOL_ERROR_PREFIX}noon` },
      { role: 'user', content: 'also this' },
    ]);
  });

  it('flattens tool_result blocks to text with placeholders for images; no content reads as empty', () => {
    const out = anthropicRequestToOpenAI(
      anthropic({
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't1',
                content: [
                  { type: 'text', text: 'a' },
                  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA' } },
                  { type: 'text', text: 'b' },
                ],
              },
              { type: 'tool_result', tool_use_id: 't2' },
            ],
          },
        ],
      }),
    );
    expect(out.messages).toEqual([
      { role: 'tool', tool_call_id: 't1', content: 'a\n[image omitted]\nb' },
      { role: 'tool', tool_call_id: 't2', content: '' },
    ]);
  });

  it('drops assistant turns left empty after dropping thinking, and maps tool-only turns to null content', () => {
    const out = anthropicRequestToOpenAI(
      anthropic({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'xx' }] },
          { role: 'user', content: 'b' },
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 't', name: 'f', input: { [RAW_ARGUMENTS_KEY]: '{oops' } }],
          },
        ],
      }),
    );
    expect(out.messages).toEqual([
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }],
      },
    ]);
  });

  it('rejects server-tool blocks in assistant turns', () => {
    const error = conversionError(() =>
      anthropicRequestToOpenAI(
        anthropic({
          messages: [
            { role: 'user', content: 'a' },
            {
              role: 'assistant',
              content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }],
            },
          ],
        }),
      ),
    );
    expect(error.param).toBe('messages[1].content[0]');
  });

  it('converts client tools and rejects server tools', () => {
    const out = anthropicRequestToOpenAI(
      anthropic({
        tools: [
          { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: {} } },
          { type: 'custom', name: 'now', input_schema: { type: 'object' } },
          { name: 'bare' },
        ],
      }),
    );
    expect(out.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather',
          parameters: { type: 'object', properties: {} },
        },
      },
      { type: 'function', function: { name: 'now', parameters: { type: 'object' } } },
      { type: 'function', function: { name: 'bare', parameters: { type: 'object', properties: {} } } },
    ]);
    const error = conversionError(() =>
      anthropicRequestToOpenAI(
        anthropic({
          tools: [{ name: 'a' }, { type: 'web_search_20250305', name: 'web_search', max_uses: 5 }],
        }),
      ),
    );
    expect(error.param).toBe('tools[1]');
  });

  it('rejects MCP servers', () => {
    const error = conversionError(() =>
      anthropicRequestToOpenAI(anthropic({ mcp_servers: [{ type: 'url', url: 'https://x', name: 'x' }] })),
    );
    expect(error.param).toBe('mcp_servers');
  });

  it.each([
    [{ type: 'auto' }, 'auto', undefined],
    [{ type: 'any' }, 'required', undefined],
    [{ type: 'none' }, 'none', undefined],
    [{ type: 'tool', name: 'f' }, { type: 'function', function: { name: 'f' } }, undefined],
    [{ type: 'auto', disable_parallel_tool_use: true }, 'auto', false],
    [
      { type: 'tool', name: 'f', disable_parallel_tool_use: false },
      { type: 'function', function: { name: 'f' } },
      undefined,
    ],
  ] as const)('tool_choice %j -> %j, parallel_tool_calls %s', (choice, expected, parallel) => {
    const out = anthropicRequestToOpenAI(anthropic({ tools: [{ name: 'f' }], tool_choice: choice }));
    expect(out.tool_choice).toEqual(expected);
    expect(out.parallel_tool_calls).toBe(parallel);
  });

  it('maps sampling fields, stream with usage, user id; drops top_k', () => {
    const out = anthropicRequestToOpenAI(
      anthropic({
        stop_sequences: ['END'],
        temperature: 0.3,
        top_p: 0.8,
        top_k: 5,
        stream: true,
        metadata: { user_id: 'u-1' },
        service_tier: 'auto',
      }),
    );
    expect(out).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      max_completion_tokens: 100,
      stop: ['END'],
      temperature: 0.3,
      top_p: 0.8,
      stream: true,
      stream_options: { include_usage: true },
      user: 'u-1',
    });
    expect(anthropicRequestToOpenAI(anthropic({ stream: false }))).not.toHaveProperty('stream_options');
  });

  it.each([
    [1024, 'low'],
    [2047, 'low'],
    [2048, 'medium'],
    [8191, 'medium'],
    [8192, 'high'],
    [32000, 'high'],
  ])('thinking budget %i -> reasoning_effort %s', (budget, effort) => {
    const out = anthropicRequestToOpenAI(anthropic({ thinking: { type: 'enabled', budget_tokens: budget } }));
    expect(out.reasoning_effort).toBe(effort);
  });

  it('sends no reasoning_effort for disabled or adaptive thinking', () => {
    expect(anthropicRequestToOpenAI(anthropic({ thinking: { type: 'disabled' } }))).not.toHaveProperty(
      'reasoning_effort',
    );
    expect(anthropicRequestToOpenAI(anthropic({ thinking: { type: 'adaptive' } }))).not.toHaveProperty(
      'reasoning_effort',
    );
  });
});
