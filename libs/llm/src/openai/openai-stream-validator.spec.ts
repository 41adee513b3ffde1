import { ProtocolViolation } from '../canonical/protocol-violation';
import { OpenAIStreamValidator } from './openai-stream-validator';

const BASE = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-x' };
const chunk = (delta: object, finishReason: string | null = null, index = 0): object => ({
  ...BASE,
  choices: [{ index, delta, finish_reason: finishReason }],
});
const usage = { ...BASE, choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
const firstTool = {
  tool_calls: [{ index: 0, id: 'call_0', type: 'function', function: { name: 'f', arguments: '' } }],
};
const moreTool = { tool_calls: [{ index: 0, function: { arguments: '{}' } }] };

/** Runs `steps` (a chunk, or 'DONE' for done()) and returns a thunk running the last one. */
function last(steps: (object | 'DONE')[]): () => void {
  const validator = new OpenAIStreamValidator();
  const run = (step: object | 'DONE'): void => (step === 'DONE' ? validator.done() : validator.check(step));
  steps.slice(0, -1).forEach(run);
  const final = steps[steps.length - 1];
  return () => {
    if (final !== undefined) run(final);
  };
}

describe('OpenAIStreamValidator', () => {
  it('accepts a normal stream with tool calls, finish_reason, usage and [DONE]', () => {
    const validator = new OpenAIStreamValidator();
    for (const c of [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'hi' }),
      chunk(firstTool),
      chunk(moreTool),
    ]) {
      validator.check(c);
    }
    validator.check(chunk({ tool_calls: [{ index: 0, id: 'call_0', function: { arguments: '' } }] }));
    validator.check(chunk({}, 'tool_calls'));
    validator.check(chunk({}));
    validator.check(usage);
    expect(validator.finished).toBe(false);
    validator.done();
    expect(validator.finished).toBe(true);
  });

  it('accepts an error chunk, which finishes the stream; [DONE] may follow it', () => {
    const validator = new OpenAIStreamValidator();
    validator.check(chunk({ content: 'x' }));
    validator.check({
      error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded' },
    });
    expect(validator.finished).toBe(true);
    expect(() => validator.check(chunk({}))).toThrow(/after an error/);
    validator.done();
  });

  it.each<[string, (object | 'DONE')[], RegExp]>([
    ['[DONE] without finish_reason', [chunk({ content: 'x' }), 'DONE'], /\[DONE\] without finish_reason/],
    ['[DONE] on an empty stream', ['DONE'], /without finish_reason/],
    ['[DONE] twice', [chunk({}, 'stop'), 'DONE', 'DONE'], /\[DONE\] twice/],
    ['a chunk after [DONE]', [chunk({}, 'stop'), 'DONE', chunk({})], /after \[DONE\]/],
    ['a non-object chunk', ['text' as unknown as object], /not a JSON object/],
    [
      'a wrong object type',
      [{ ...BASE, object: 'chat.completion', choices: [] }],
      /not "chat.completion.chunk"/,
    ],
    ['a chunk without choices', [{ ...BASE }], /choices array/],
    [
      'a tool call first seen without id',
      [chunk({ tool_calls: [{ index: 0, function: { name: 'f' } }] })],
      /first delta without an id/,
    ],
    [
      'a tool call first seen without name',
      [chunk({ tool_calls: [{ index: 0, id: 'c', function: { arguments: '' } }] })],
      /without function.name/,
    ],
    [
      'a tool call whose id changes',
      [chunk(firstTool), chunk({ tool_calls: [{ index: 0, id: 'other' }] })],
      /id changed/,
    ],
    [
      'content after finish_reason',
      [chunk({}, 'stop'), chunk({ content: 'x' })],
      /content after finish_reason/,
    ],
    [
      'tool calls after finish_reason',
      [chunk(firstTool, 'tool_calls'), chunk(moreTool)],
      /content after finish_reason/,
    ],
    ['a second finish_reason', [chunk({}, 'stop'), chunk({}, 'stop')], /second finish_reason/],
    ['a usage chunk before finish_reason', [chunk({ content: 'x' }), usage], /before finish_reason/],
    ['a choice without index', [{ ...BASE, choices: [{ delta: {} }] }], /valid index/],
  ])('rejects %s', (_name, steps, message) => {
    const run = last(steps);
    expect(run).toThrow(ProtocolViolation);
    expect(run).toThrow(message);
  });

  it('tracks tool call indices and finish per choice', () => {
    const validator = new OpenAIStreamValidator();
    validator.check(chunk(firstTool, null, 0));
    validator.check(chunk({}, 'stop', 0));
    expect(() => validator.check(chunk(moreTool, null, 1))).toThrow(
      /choice 1 tool call 0: first delta without an id/,
    );
  });
});
