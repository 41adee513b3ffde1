import { convertUpstreamError, errorBody } from './error-bodies';
import { openAIErrorTypeForAnthropic } from '@warden/llm';
import { anthropicTypeForStatus, ERROR_MAPPINGS, GatewayErrorCode } from './gateway-error-code';

const ALL_CODES = Object.values(GatewayErrorCode);

/** Every `type` the Anthropic API documents for errors. */
const ANTHROPIC_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
];

describe('ERROR_MAPPINGS', () => {
  it.each(ALL_CODES)('maps %s to an error status and a documented Anthropic type', (code) => {
    const mapping = ERROR_MAPPINGS[code];
    expect(mapping.status).toBeGreaterThanOrEqual(400);
    expect(mapping.status).toBeLessThan(600);
    expect(ANTHROPIC_TYPES).toContain(mapping.anthropicType);
  });

  it('agrees with the status mapping for Anthropic types', () => {
    for (const code of ALL_CODES) {
      const { status, anthropicType } = ERROR_MAPPINGS[code];
      // Upstream failures the gateway reports as 502/504 are api_error; every other status maps one to one.
      if (status === 502 || status === 504) expect(anthropicType).toBe('api_error');
      else expect(anthropicTypeForStatus(status)).toBe(anthropicType);
    }
  });

  it.each([
    [GatewayErrorCode.InvalidRequest, 400],
    [GatewayErrorCode.Authentication, 401],
    [GatewayErrorCode.Permission, 403],
    [GatewayErrorCode.ModelNotFound, 404],
    [GatewayErrorCode.RequestTooLarge, 413],
    [GatewayErrorCode.RateLimited, 429],
    [GatewayErrorCode.UpstreamUnreachable, 502],
    [GatewayErrorCode.UpstreamTimeout, 504],
    [GatewayErrorCode.Unavailable, 503],
    [GatewayErrorCode.Internal, 500],
  ])('gives %s HTTP %i', (code, status) => {
    expect(ERROR_MAPPINGS[code].status).toBe(status);
  });
});

describe('errorBody', () => {
  it.each(ALL_CODES)('writes %s in the Anthropic shape', (code) => {
    expect(errorBody('anthropic', code, 'nope', 'model')).toEqual({
      type: 'error',
      error: { type: ERROR_MAPPINGS[code].anthropicType, message: 'nope' },
    });
  });

  it.each(ALL_CODES)('writes %s in the OpenAI shape', (code) => {
    expect(errorBody('openai', code, 'nope')).toEqual({
      error: {
        message: 'nope',
        type: ERROR_MAPPINGS[code].openaiType,
        param: null,
        code: ERROR_MAPPINGS[code].openaiCode,
      },
    });
  });

  it('carries the param in the OpenAI shape only', () => {
    expect(errorBody('openai', GatewayErrorCode.ModelNotFound, 'm', 'model')).toEqual({
      error: { message: 'm', type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    });
    expect(
      JSON.stringify(errorBody('anthropic', GatewayErrorCode.ModelNotFound, 'm', 'model')),
    ).not.toContain('param');
  });

  it('uses the codes OpenAI clients recognise', () => {
    expect(errorBody('openai', GatewayErrorCode.Authentication, 'k')).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_api_key' },
    });
    expect(errorBody('openai', GatewayErrorCode.RateLimited, 'k')).toMatchObject({
      error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });
  });
});

describe('convertUpstreamError', () => {
  describe('Anthropic error to an OpenAI client', () => {
    it.each([
      ['invalid_request_error', 400, 'invalid_request_error', null],
      ['authentication_error', 401, 'invalid_request_error', 'invalid_api_key'],
      ['permission_error', 403, 'permission_error', null],
      ['not_found_error', 404, 'invalid_request_error', 'not_found'],
      ['request_too_large', 413, 'invalid_request_error', 'request_too_large'],
      ['rate_limit_error', 429, 'rate_limit_error', 'rate_limit_exceeded'],
      ['api_error', 500, 'server_error', null],
      ['overloaded_error', 529, 'server_error', 'overloaded'],
    ])('maps %s (HTTP %i) to %s / %s', (anthropicType, status, type, code) => {
      const body = { type: 'error', error: { type: anthropicType, message: 'upstream says no' } };
      expect(convertUpstreamError(body, status, 'anthropic', 'openai')).toEqual({
        error: { message: 'upstream says no', type, param: null, code },
      });
    });

    it("follows the body's error type rather than the status", () => {
      const body = { type: 'error', error: { type: 'overloaded_error', message: 'busy' } };
      expect(convertUpstreamError(body, 500, 'anthropic', 'openai')).toMatchObject({
        error: { type: 'server_error', code: 'overloaded' },
      });
    });

    it('falls back to the status when the body has no error type', () => {
      expect(convertUpstreamError({ message: 'slow down' }, 429, 'anthropic', 'openai')).toEqual({
        error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
      });
    });

    it('maps an unknown Anthropic type to a server error', () => {
      const body = { type: 'error', error: { type: 'brand_new_error', message: 'x' } };
      expect(convertUpstreamError(body, 500, 'anthropic', 'openai')).toMatchObject({
        error: { type: 'server_error', code: null },
      });
    });
  });

  describe('OpenAI error to an Anthropic client', () => {
    it.each([
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
      [413, 'request_too_large'],
      [422, 'invalid_request_error'],
      [429, 'rate_limit_error'],
      [500, 'api_error'],
      [502, 'api_error'],
      [503, 'overloaded_error'],
      [529, 'overloaded_error'],
    ])('maps HTTP %i to %s', (status, type) => {
      const body = { error: { message: 'upstream says no', type: 'whatever', param: null, code: null } };
      expect(convertUpstreamError(body, status, 'openai', 'anthropic')).toEqual({
        type: 'error',
        error: { type, message: 'upstream says no' },
      });
    });

    it('reads a bare string error and a top-level message', () => {
      expect(convertUpstreamError({ error: 'bad key' }, 401, 'openai', 'anthropic')).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: 'bad key' },
      });
      expect(convertUpstreamError({ message: 'gone' }, 404, 'openai', 'anthropic')).toMatchObject({
        error: { message: 'gone' },
      });
    });
  });

  describe('bodies without a message', () => {
    it.each<[string, unknown]>([
      ['HTML text', '<html>502 Bad Gateway</html>'],
      ['null', null],
      ['an array', [{ error: { message: 'x' } }]],
      ['an empty object', {}],
      ['a numeric message', { error: { message: 42 } }],
    ])('describe the status for %s', (_name, body) => {
      expect(convertUpstreamError(body, 502, 'openai', 'anthropic')).toEqual({
        type: 'error',
        error: { type: 'api_error', message: 'upstream returned HTTP 502' },
      });
      expect(convertUpstreamError(body, 502, 'anthropic', 'openai')).toEqual({
        error: { message: 'upstream returned HTTP 502', type: 'server_error', param: null, code: null },
      });
    });
  });
});

describe('openAIErrorTypeForAnthropic', () => {
  it('gives every documented Anthropic type an OpenAI type', () => {
    for (const type of ANTHROPIC_TYPES) {
      expect(['invalid_request_error', 'permission_error', 'rate_limit_error', 'server_error']).toContain(
        openAIErrorTypeForAnthropic(type).type,
      );
    }
  });
});
