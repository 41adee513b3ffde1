/** The `type` and `code` of an OpenAI error body. */
export interface OpenAIErrorType {
  type: string;
  code: string | null;
}

/** Anthropic error type -> OpenAI error `type` and `code`. */
const ANTHROPIC_TO_OPENAI_ERROR: Readonly<Record<string, OpenAIErrorType>> = {
  invalid_request_error: { type: 'invalid_request_error', code: null },
  authentication_error: { type: 'invalid_request_error', code: 'invalid_api_key' },
  permission_error: { type: 'permission_error', code: null },
  not_found_error: { type: 'invalid_request_error', code: 'not_found' },
  request_too_large: { type: 'invalid_request_error', code: 'request_too_large' },
  rate_limit_error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  overloaded_error: { type: 'server_error', code: 'overloaded' },
  timeout_error: { type: 'server_error', code: 'timeout' },
  api_error: { type: 'server_error', code: null },
};

const SERVER_ERROR: OpenAIErrorType = { type: 'server_error', code: null };

/**
 * The OpenAI error `type` and `code` for an Anthropic error type, the same for an upstream HTTP error body and for
 * an in-band stream error (an OpenAI client tells them apart by neither); an unknown type is a server error.
 */
export function openAIErrorTypeForAnthropic(type: string): OpenAIErrorType {
  return Object.hasOwn(ANTHROPIC_TO_OPENAI_ERROR, type)
    ? (ANTHROPIC_TO_OPENAI_ERROR[type] as OpenAIErrorType)
    : SERVER_ERROR;
}
