import { ProtocolViolation } from '../canonical/protocol-violation';
import { isJsonObject, type JsonObject } from '../json';

/** What the validator remembers of one choice. */
interface ChoiceState {
  finished: boolean;
  /** Tool call index -> the `id` it was announced with. */
  toolIds: Map<number, string>;
}

type Phase = 'streaming' | 'errored' | 'done';

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Guards an OpenAI Chat Completions chunk stream (one parsed `data:` payload at a time) and throws
 * {@link ProtocolViolation} at the first thing that breaks the protocol: every chunk is an object with
 * `object: 'chat.completion.chunk'` and a `choices` array, or an `{error}` body (which ends the stream: only
 * `[DONE]` may follow it); a tool call index first appears with its `id` and `function.name` (later deltas may
 * repeat the same `id`, not another); a choice carries no content, tool call or second `finish_reason` after
 * its `finish_reason` (empty deltas are tolerated); a usage-only chunk (`choices: []`) comes only once every
 * choice seen has finished; `[DONE]` ({@link OpenAIStreamValidator.done}) comes once, after a `finish_reason`
 * (or an error), and nothing follows it.
 */
export class OpenAIStreamValidator {
  private readonly choices = new Map<number, ChoiceState>();
  private phase: Phase = 'streaming';
  private doneSeen = false;

  /** True once `[DONE]` or an `{error}` chunk has been seen. */
  get finished(): boolean {
    return this.phase !== 'streaming';
  }

  /** Checks the next chunk; throws {@link ProtocolViolation} if it may not come here. */
  check(chunk: unknown): void {
    if (this.phase === 'done') throw new ProtocolViolation('chunk after [DONE]');
    if (this.phase === 'errored') throw new ProtocolViolation('chunk after an error');
    if (!isJsonObject(chunk)) throw new ProtocolViolation('stream chunk is not a JSON object');
    if (chunk.error !== undefined && chunk.choices === undefined) {
      if (!isJsonObject(chunk.error)) throw new ProtocolViolation('error chunk without an error object');
      this.phase = 'errored';
      return;
    }
    if (chunk.object !== 'chat.completion.chunk') {
      throw new ProtocolViolation(
        `chunk object is ${JSON.stringify(chunk.object)}, not "chat.completion.chunk"`,
      );
    }
    const choices = chunk.choices;
    if (!Array.isArray(choices)) throw new ProtocolViolation('chunk without a choices array');
    if (choices.length === 0) {
      if (!this.allFinished()) throw new ProtocolViolation('chunk with no choices before finish_reason');
      return;
    }
    for (const choice of choices as unknown[]) this.checkChoice(choice);
  }

  /** Records `[DONE]`; throws {@link ProtocolViolation} if it comes twice or before any `finish_reason`. */
  done(): void {
    if (this.doneSeen) throw new ProtocolViolation('[DONE] twice');
    if (this.phase === 'streaming' && !this.allFinished()) {
      throw new ProtocolViolation('[DONE] without finish_reason');
    }
    this.doneSeen = true;
    this.phase = 'done';
  }

  private allFinished(): boolean {
    if (this.choices.size === 0) return false;
    for (const state of this.choices.values()) if (!state.finished) return false;
    return true;
  }

  private checkChoice(choice: unknown): void {
    if (!isJsonObject(choice)) throw new ProtocolViolation('choice is not an object');
    const index = choice.index;
    if (!isIndex(index)) throw new ProtocolViolation('choice without a valid index');
    let state = this.choices.get(index);
    if (state === undefined) {
      state = { finished: false, toolIds: new Map() };
      this.choices.set(index, state);
    }
    const delta = choice.delta;
    if (delta !== undefined && delta !== null && !isJsonObject(delta)) {
      throw new ProtocolViolation(`choice ${index}: delta is not an object`);
    }
    if (delta) this.checkDelta(index, state, delta);
    const finish = choice.finish_reason;
    if (finish !== undefined && finish !== null) {
      if (typeof finish !== 'string')
        throw new ProtocolViolation(`choice ${index}: finish_reason is not a string`);
      if (state.finished) throw new ProtocolViolation(`choice ${index}: second finish_reason`);
      state.finished = true;
    }
  }

  private checkDelta(index: number, state: ChoiceState, delta: JsonObject): void {
    const hasContent = isNonEmptyString(delta.content) || isNonEmptyString(delta.refusal);
    const toolCalls = delta.tool_calls;
    const hasTools = Array.isArray(toolCalls) && toolCalls.length > 0;
    if (state.finished && (hasContent || hasTools)) {
      throw new ProtocolViolation(`choice ${index}: content after finish_reason`);
    }
    if (toolCalls === undefined || toolCalls === null) return;
    if (!Array.isArray(toolCalls)) throw new ProtocolViolation(`choice ${index}: tool_calls is not an array`);
    for (const call of toolCalls as unknown[]) this.checkToolCall(index, state, call);
  }

  private checkToolCall(choiceIndex: number, state: ChoiceState, call: unknown): void {
    if (!isJsonObject(call) || !isIndex(call.index)) {
      throw new ProtocolViolation(`choice ${choiceIndex}: tool call delta without a valid index`);
    }
    const where = `choice ${choiceIndex} tool call ${call.index}`;
    const fn = call.function;
    if (fn !== undefined && !isJsonObject(fn))
      throw new ProtocolViolation(`${where}: function is not an object`);
    if (fn?.arguments !== undefined && typeof fn.arguments !== 'string') {
      throw new ProtocolViolation(`${where}: arguments is not a string`);
    }
    const known = state.toolIds.get(call.index);
    if (known === undefined) {
      if (!isNonEmptyString(call.id)) throw new ProtocolViolation(`${where}: first delta without an id`);
      if (!isNonEmptyString(fn?.name))
        throw new ProtocolViolation(`${where}: first delta without function.name`);
      state.toolIds.set(call.index, call.id);
    } else if (call.id !== undefined && call.id !== known) {
      throw new ProtocolViolation(`${where}: id changed from ${known} to ${JSON.stringify(call.id)}`);
    }
  }
}
