import { Injectable } from '@nestjs/common';
import type { AnthropicStreamEvent, JsonObject } from '@warden/llm';
import type { CallContext } from '../call/call-context';
import { PolicyStage, type StreamTransform } from './policy-stage.port';

const PASS_THROUGH: StreamTransform = {
  push: (event: AnthropicStreamEvent) => [event],
  end: () => [],
};

/** The policy stage with no policies: every phase takes the pass-through fast path. */
@Injectable()
export class NoopPolicyStage extends PolicyStage {
  readonly hasRequestHooks = false;
  readonly hasResponseHooks = false;

  onRequest(_ctx: CallContext, request: JsonObject): Promise<JsonObject> {
    return Promise.resolve(request);
  }

  createStreamTransform(): StreamTransform {
    return PASS_THROUGH;
  }
}
