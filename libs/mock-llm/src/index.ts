export {
  startMockLlm,
  DEFAULT_MOCK_HOST,
  DEFAULT_MAX_RECORDS,
  MAX_BODY_BYTES,
  MOCK_MODELS,
} from './mock-llm.server';
export type { MockLlmHandle, MockLlmOptions, MockLlmStats, MockRequestRecord } from './mock-llm.types';
export type { MockScript, MockStopReason, MockToolScript, MockUsageScript } from './script/mock-script.types';
export { MockScriptError } from './script/mock-script.error';
export {
  EMPTY_MOCK_SCRIPT,
  MOCK_SCRIPT_HEADER,
  MOCK_TAG_CLOSE,
  MOCK_TAG_OPEN,
  findMockScriptSource,
  mockScriptFromRequest,
  mockScriptTag,
  parseMockScript,
} from './script/mock-script.parser';
export { MAX_SCRIPT_DELAY_MS, MAX_SCRIPT_WORDS } from './script/mock-script.schema';
export {
  DEFAULT_ARGS_CHUNK_SIZE,
  DEFAULT_REPLY_TEXT,
  DEFAULT_WORDS_PER_CHUNK,
  buildMockReply,
  type MockReplyPlan,
  type MockToolCallPlan,
} from './reply/mock-reply.plan';
export {
  MOCK_JUDGE_DANGER_PROBABILITY,
  MOCK_JUDGE_MODEL,
  MOCK_JUDGE_PATTERNS,
  MOCK_JUDGE_SAFE_PROBABILITY,
  mockJudgeReplyText,
  mockJudgeScript,
} from './reply/mock-judge.reply';
export {
  MOCK_WORDS,
  chunkWords,
  estimateTokens,
  mockSignature,
  mockWords,
  splitFragments,
} from './reply/mock-text.util';
export { ANTHROPIC_MESSAGE_ID_PREFIX, ANTHROPIC_TOOL_ID_PREFIX } from './anthropic/anthropic-mock.protocol';
export { OPENAI_COMPLETION_ID_PREFIX, OPENAI_TOOL_ID_PREFIX } from './openai/openai-mock.protocol';
