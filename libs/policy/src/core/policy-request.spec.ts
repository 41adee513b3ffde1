import type { JsonObject } from '@warden/llm';
import {
  lastUserText,
  mapRequestText,
  requestTexts,
  type PolicyRequest,
  type TextRole,
} from './policy-request';

const anthropicBody: JsonObject = {
  model: 'claude',
  max_tokens: 100,
  system: [
    { type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } },
    { type: 'image', source: { type: 'url', url: 'http://x' } },
  ],
  tools: [{ name: 'bash', description: 'tool text stays', input_schema: { type: 'object' } }],
  metadata: { user_id: 'u' },
  messages: [
    { role: 'user', content: 'first question' },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'not mapped', signature: 's' },
        { type: 'text', text: 'answer' },
        { type: 'tool_use', id: 't1', name: 'bash', input: { command: 'text in input' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 't1', content: 'result string' },
        {
          type: 'tool_result',
          tool_use_id: 't2',
          content: [
            { type: 'text', text: 'result part' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
        },
        { type: 'text', text: 'and a follow-up' },
      ],
    },
  ],
};

const openaiBody: JsonObject = {
  model: 'gpt',
  system: 'not an openai field: untouched',
  temperature: 0.5,
  messages: [
    { role: 'system', content: 'sys' },
    { role: 'developer', content: [{ type: 'text', text: 'dev' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image_url', image_url: { url: 'http://img' } },
        { type: 'input_text', text: 'responses-style part' },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"text":"x"}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'tool output' },
    'not a message',
  ],
};

const anthropic: PolicyRequest = { format: 'anthropic', body: anthropicBody };
const openai: PolicyRequest = { format: 'openai', body: openaiBody };

describe('mapRequestText', () => {
  it('maps the system blocks, message strings, text parts and tool results of an Anthropic request', () => {
    const before = structuredClone(anthropicBody);
    const out = mapRequestText(anthropic, (text, role) => `<${role}:${text}>`);
    expect(out).toEqual({
      ...anthropicBody,
      system: [
        { type: 'text', text: '<system:be brief>', cache_control: { type: 'ephemeral' } },
        { type: 'image', source: { type: 'url', url: 'http://x' } },
      ],
      messages: [
        { role: 'user', content: '<user:first question>' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'not mapped', signature: 's' },
            { type: 'text', text: '<assistant:answer>' },
            { type: 'tool_use', id: 't1', name: 'bash', input: { command: 'text in input' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: '<tool:result string>' },
            {
              type: 'tool_result',
              tool_use_id: 't2',
              content: [
                { type: 'text', text: '<tool:result part>' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
              ],
            },
            { type: 'text', text: '<user:and a follow-up>' },
          ],
        },
      ],
    });
    expect(anthropicBody).toEqual(before);
    expect(out.tools).toBe(anthropicBody.tools);
  });

  it('maps a system prompt given as a string', () => {
    const out = mapRequestText({ format: 'anthropic', body: { system: 'sys', messages: [] } }, (t) =>
      t.toUpperCase(),
    );
    expect(out).toEqual({ system: 'SYS', messages: [] });
  });

  it('maps OpenAI messages by role (developer counts as system) and leaves other fields and parts alone', () => {
    const before = structuredClone(openaiBody);
    const out = mapRequestText(openai, (text, role) => `<${role}:${text}>`);
    expect(out).toEqual({
      ...openaiBody,
      messages: [
        { role: 'system', content: '<system:sys>' },
        { role: 'developer', content: [{ type: 'text', text: '<system:dev>' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: '<user:look>' },
            { type: 'image_url', image_url: { url: 'http://img' } },
            { type: 'input_text', text: '<user:responses-style part>' },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"text":"x"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '<tool:tool output>' },
        'not a message',
      ],
    });
    expect(out.system).toBe('not an openai field: untouched');
    expect(openaiBody).toEqual(before);
  });

  it('keeps a body without messages as it is', () => {
    expect(mapRequestText({ format: 'openai', body: { model: 'x' } }, () => 'changed')).toEqual({
      model: 'x',
    });
  });
});

describe('requestTexts', () => {
  it('lists every text with its role, in order, system first', () => {
    const expected: Array<{ role: TextRole; text: string }> = [
      { role: 'system', text: 'be brief' },
      { role: 'user', text: 'first question' },
      { role: 'assistant', text: 'answer' },
      { role: 'tool', text: 'result string' },
      { role: 'tool', text: 'result part' },
      { role: 'user', text: 'and a follow-up' },
    ];
    expect(requestTexts(anthropic)).toEqual(expected);
    expect(requestTexts(openai)).toEqual([
      { role: 'system', text: 'sys' },
      { role: 'system', text: 'dev' },
      { role: 'user', text: 'look' },
      { role: 'user', text: 'responses-style part' },
      { role: 'tool', text: 'tool output' },
    ]);
  });
});

describe('lastUserText', () => {
  it('joins the texts of the last user message, tool results included', () => {
    expect(lastUserText(anthropic)).toBe('result string\nresult part\nand a follow-up');
  });

  it('takes an OpenAI tool message as the last user turn', () => {
    expect(lastUserText(openai)).toBe('tool output');
  });

  it('skips assistant messages after the last user message', () => {
    const body = {
      messages: [
        { role: 'user', content: 'question' },
        { role: 'assistant', content: 'prefill' },
      ],
    };
    expect(lastUserText({ format: 'anthropic', body })).toBe('question');
  });

  it('is empty without a user message or without messages', () => {
    expect(lastUserText({ format: 'openai', body: { messages: [{ role: 'system', content: 's' }] } })).toBe(
      '',
    );
    expect(lastUserText({ format: 'anthropic', body: {} })).toBe('');
    expect(lastUserText({ format: 'anthropic', body: { messages: [{ role: 'user', content: [] }] } })).toBe(
      '',
    );
  });
});
