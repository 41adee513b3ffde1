import { openAIErrorTypeForAnthropic } from './error-type';

describe('openAIErrorTypeForAnthropic', () => {
  it.each([
    ['invalid_request_error', 'invalid_request_error', null],
    ['authentication_error', 'invalid_request_error', 'invalid_api_key'],
    ['permission_error', 'permission_error', null],
    ['not_found_error', 'invalid_request_error', 'not_found'],
    ['request_too_large', 'invalid_request_error', 'request_too_large'],
    ['rate_limit_error', 'rate_limit_error', 'rate_limit_exceeded'],
    ['api_error', 'server_error', null],
    ['overloaded_error', 'server_error', 'overloaded'],
    ['timeout_error', 'server_error', 'timeout'],
  ])('maps %s to %s / %s', (anthropic, type, code) => {
    expect(openAIErrorTypeForAnthropic(anthropic)).toEqual({ type, code });
  });

  it('reads an unknown type, or a name of Object.prototype, as a server error', () => {
    for (const type of ['brand_new_error', 'toString', '__proto__', ''])
      expect(openAIErrorTypeForAnthropic(type)).toEqual({ type: 'server_error', code: null });
  });
});
