/** Domain error codes of a call; one filter per API family maps them to that API's error shape. */
export enum GatewayErrorCode {
  InvalidRequest = 'invalid_request',
  Authentication = 'authentication',
  Permission = 'permission',
  ModelNotFound = 'model_not_found',
  NotFound = 'not_found',
  /** The request lost to a concurrent change of the same thing (an admin write). */
  Conflict = 'conflict',
  RequestTooLarge = 'request_too_large',
  RateLimited = 'rate_limited',
  UpstreamUnreachable = 'upstream_unreachable',
  UpstreamTimeout = 'upstream_timeout',
  UpstreamBadResponse = 'upstream_bad_response',
  /** The provider's circuit is open: the call was refused without reaching it. */
  UpstreamCircuitOpen = 'upstream_circuit_open',
  Unavailable = 'unavailable',
  Internal = 'internal',
}

/** HTTP status and each API's error type and code for a {@link GatewayErrorCode}. */
export interface ErrorMapping {
  status: number;
  anthropicType: string;
  openaiType: string;
  openaiCode: string | null;
}

/** The one table that maps domain codes to wire errors. */
export const ERROR_MAPPINGS: Record<GatewayErrorCode, ErrorMapping> = {
  [GatewayErrorCode.InvalidRequest]: {
    status: 400,
    anthropicType: 'invalid_request_error',
    openaiType: 'invalid_request_error',
    openaiCode: null,
  },
  [GatewayErrorCode.Authentication]: {
    status: 401,
    anthropicType: 'authentication_error',
    openaiType: 'invalid_request_error',
    openaiCode: 'invalid_api_key',
  },
  [GatewayErrorCode.Permission]: {
    status: 403,
    anthropicType: 'permission_error',
    openaiType: 'permission_error',
    openaiCode: null,
  },
  [GatewayErrorCode.ModelNotFound]: {
    status: 404,
    anthropicType: 'not_found_error',
    openaiType: 'invalid_request_error',
    openaiCode: 'model_not_found',
  },
  [GatewayErrorCode.NotFound]: {
    status: 404,
    anthropicType: 'not_found_error',
    openaiType: 'invalid_request_error',
    openaiCode: 'not_found',
  },
  [GatewayErrorCode.Conflict]: {
    status: 409,
    anthropicType: 'invalid_request_error',
    openaiType: 'invalid_request_error',
    openaiCode: 'conflict',
  },
  [GatewayErrorCode.RequestTooLarge]: {
    status: 413,
    anthropicType: 'request_too_large',
    openaiType: 'invalid_request_error',
    openaiCode: 'request_too_large',
  },
  [GatewayErrorCode.RateLimited]: {
    status: 429,
    anthropicType: 'rate_limit_error',
    openaiType: 'rate_limit_error',
    openaiCode: 'rate_limit_exceeded',
  },
  [GatewayErrorCode.UpstreamUnreachable]: {
    status: 502,
    anthropicType: 'api_error',
    openaiType: 'server_error',
    openaiCode: 'upstream_unreachable',
  },
  [GatewayErrorCode.UpstreamTimeout]: {
    status: 504,
    anthropicType: 'api_error',
    openaiType: 'server_error',
    openaiCode: 'upstream_timeout',
  },
  [GatewayErrorCode.UpstreamBadResponse]: {
    status: 502,
    anthropicType: 'api_error',
    openaiType: 'server_error',
    openaiCode: 'upstream_bad_response',
  },
  [GatewayErrorCode.UpstreamCircuitOpen]: {
    status: 503,
    anthropicType: 'overloaded_error',
    openaiType: 'server_error',
    openaiCode: 'service_unavailable',
  },
  [GatewayErrorCode.Unavailable]: {
    status: 503,
    anthropicType: 'overloaded_error',
    openaiType: 'server_error',
    openaiCode: 'service_unavailable',
  },
  [GatewayErrorCode.Internal]: {
    status: 500,
    anthropicType: 'api_error',
    openaiType: 'server_error',
    openaiCode: 'internal_error',
  },
};

/** The Anthropic error type for an HTTP status (used when converting an upstream OpenAI error). */
export function anthropicTypeForStatus(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}
