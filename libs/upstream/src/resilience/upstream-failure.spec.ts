import { UpstreamException, type UpstreamFailure } from '../client/upstream.exception';
import {
  isBreakerFailureError,
  isBreakerFailureStatus,
  isRetryableError,
  isRetryableStatus,
} from './upstream-failure';

const failure = (f: UpstreamFailure): UpstreamException => new UpstreamException(f, 'p', f);

describe('upstream failure classification', () => {
  it.each([
    [200, false, false],
    [400, false, false],
    [401, false, false],
    [404, false, false],
    [413, false, false],
    [429, true, false],
    [500, false, true],
    [501, false, true],
    [502, true, true],
    [503, true, true],
    [504, false, true],
    [529, true, true],
  ])('HTTP %i: retryable %p, breaker failure %p', (status, retryable, failing) => {
    expect(isRetryableStatus(status)).toBe(retryable);
    expect(isBreakerFailureStatus(status)).toBe(failing);
  });

  it.each<[UpstreamFailure, boolean, boolean]>([
    ['connect', true, true],
    ['reset', true, true],
    ['tls', false, true],
    ['error', false, true],
    ['timeout', false, true],
    ['first-token-timeout', false, true],
    ['idle-timeout', false, true],
    ['aborted', false, false],
  ])('%s: retryable %p, breaker failure %p', (kind, retryable, failing) => {
    expect(isRetryableError(failure(kind))).toBe(retryable);
    expect(isBreakerFailureError(failure(kind))).toBe(failing);
  });

  it('neither retries nor counts errors that are not upstream failures', () => {
    expect(isRetryableError(new Error('bug'))).toBe(false);
    expect(isBreakerFailureError(new Error('bug'))).toBe(false);
  });
});
