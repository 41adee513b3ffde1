import fc from 'fast-check';
import {
  anthropicStopToOpenAI,
  anthropicUsageToOpenAI,
  openAIFinishToAnthropic,
  openAIUsageToAnthropic,
} from './stop-reason';

describe('anthropicStopToOpenAI', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['something_new', 'stop'],
  ])('maps %s to %s', (reason, expected) => {
    expect(anthropicStopToOpenAI(reason)).toBe(expected);
  });

  it('keeps null', () => {
    expect(anthropicStopToOpenAI(null)).toBeNull();
  });
});

describe('openAIFinishToAnthropic', () => {
  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    ['something_new', 'end_turn'],
  ])('maps %s to %s', (reason, expected) => {
    expect(openAIFinishToAnthropic(reason)).toBe(expected);
  });

  it('keeps null', () => {
    expect(openAIFinishToAnthropic(null)).toBeNull();
  });

  it('round-trips the core set', () => {
    for (const reason of ['stop', 'length', 'tool_calls', 'content_filter']) {
      expect(anthropicStopToOpenAI(openAIFinishToAnthropic(reason))).toBe(reason);
    }
    for (const reason of ['end_turn', 'max_tokens', 'tool_use', 'refusal']) {
      expect(openAIFinishToAnthropic(anthropicStopToOpenAI(reason))).toBe(reason);
    }
  });
});

describe('usage', () => {
  it('counts every prompt token in OpenAI prompt_tokens', () => {
    expect(
      anthropicUsageToOpenAI({
        input_tokens: 10,
        output_tokens: 5,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 20,
      }),
    ).toEqual({
      prompt_tokens: 130,
      completion_tokens: 5,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 100 },
    });
  });

  it('reads missing and null Anthropic counts as 0', () => {
    expect(anthropicUsageToOpenAI({ cache_read_input_tokens: null })).toEqual({
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('splits cached tokens out of OpenAI prompt_tokens', () => {
    expect(
      openAIUsageToAnthropic({
        prompt_tokens: 130,
        completion_tokens: 5,
        total_tokens: 135,
        prompt_tokens_details: { cached_tokens: 100 },
      }),
    ).toEqual({
      input_tokens: 30,
      output_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 100,
    });
    expect(openAIUsageToAnthropic({ prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 })).toEqual({
      input_tokens: 7,
      output_tokens: 1,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    }); // An upstream's usage without some counts (or with nonsense in them) gives zeros, never NaN or a missing field.
    const partial = JSON.parse(
      '{"completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": "x"}}',
    ) as Parameters<typeof openAIUsageToAnthropic>[0];
    expect(openAIUsageToAnthropic(partial)).toEqual({
      input_tokens: 0,
      output_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });

  it('round-trips OpenAI usage, and Anthropic usage up to cache writes folding into input', () => {
    const count = fc.nat({ max: 1_000_000 });
    fc.assert(
      fc.property(count, count, count, (prompt, cachedPart, completion) => {
        const cached = Math.min(cachedPart, prompt);
        const u = {
          prompt_tokens: prompt,
          completion_tokens: completion,
          total_tokens: prompt + completion,
          prompt_tokens_details: { cached_tokens: cached },
        };
        expect(anthropicUsageToOpenAI(openAIUsageToAnthropic(u))).toEqual(u);
      }),
    );
    fc.assert(
      fc.property(count, count, count, count, (input, output, read, write) => {
        const back = openAIUsageToAnthropic(
          anthropicUsageToOpenAI({
            input_tokens: input,
            output_tokens: output,
            cache_read_input_tokens: read,
            cache_creation_input_tokens: write,
          }),
        );
        expect(back).toEqual({
          input_tokens: input + write,
          output_tokens: output,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: read,
        });
      }),
    );
  });
});
