import {
  type AnthropicErrorBody,
  isJsonObject,
  openAIErrorTypeForAnthropic,
  type OpenAIErrorBody,
  type WireFormat,
} from '@warden/llm';
import { anthropicTypeForStatus, ERROR_MAPPINGS, type GatewayErrorCode } from './gateway-error-code';

/** The error body of `code` in `format`'s shape. */
export function errorBody(
  format: WireFormat,
  code: GatewayErrorCode,
  message: string,
  param?: string,
): AnthropicErrorBody | OpenAIErrorBody {
  const mapping = ERROR_MAPPINGS[code];
  if (format === 'anthropic') return { type: 'error', error: { type: mapping.anthropicType, message } };
  return { error: { message, type: mapping.openaiType, param: param ?? null, code: mapping.openaiCode } };
}

function errorMessage(value: unknown): string | undefined {
  if (!isJsonObject(value)) return undefined;
  const error = value.error;
  if (isJsonObject(error) && typeof error.message === 'string') return error.message;
  if (typeof error === 'string') return error;
  return typeof value.message === 'string' ? value.message : undefined;
}

/**
 * Re-shapes an upstream HTTP error body from `from` into `to`'s error shape, keeping the message and the
 * meaning of the status. Bodies already in the right shape, or not JSON, are wrapped faithfully.
 */
export function convertUpstreamError(
  body: unknown,
  status: number,
  from: WireFormat,
  to: WireFormat,
): AnthropicErrorBody | OpenAIErrorBody {
  const message = errorMessage(body) ?? `upstream returned HTTP ${status}`;
  const error = isJsonObject(body) && isJsonObject(body.error) ? body.error : {};
  if (to === 'anthropic') {
    return { type: 'error', error: { type: anthropicTypeForStatus(status), message } };
  }
  const anthropicType =
    from === 'anthropic' && typeof error.type === 'string' ? error.type : anthropicTypeForStatus(status);
  const mapped = openAIErrorTypeForAnthropic(anthropicType);
  return { error: { message, type: mapped.type, param: null, code: mapped.code } };
}
