import { toUpstreamException, UpstreamException } from './upstream.exception';

/** An error like the ones undici and Node's net module throw. */
function codedError(code: string, message = `failed with ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

const live = (): AbortSignal => new AbortController().signal;

function aborted(reason?: unknown): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

describe('toUpstreamException', () => {
  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
    ['UND_ERR_HEADERS_TIMEOUT', 'first-token-timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'idle-timeout'],
    ['ECONNREFUSED', 'connect'],
    ['ENOTFOUND', 'connect'],
    ['EAI_AGAIN', 'connect'],
    ['EHOSTUNREACH', 'connect'],
    ['ENETUNREACH', 'connect'],
    ['ETIMEDOUT', 'connect'],
    ['ECONNRESET', 'reset'],
    ['EPIPE', 'reset'],
    ['UND_ERR_SOCKET', 'reset'],
    ['UND_ERR_CLOSED', 'reset'],
    ['CERT_HAS_EXPIRED', 'tls'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
    ['EPROTO', 'tls'],
    ['HPE_INVALID_CONSTANT', 'error'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'error'],
    ['SOMETHING_NEW', 'error'],
  ])('maps %s to %s', (code, failure) => {
    const result = toUpstreamException(codedError(code), 'openai', live());
    expect(result).toBeInstanceOf(UpstreamException);
    expect(result.failure).toBe(failure);
    expect(result.provider).toBe('openai');
    expect(result.message).toContain('openai');
  });

  it('names the code and keeps the cause of a refused connection', () => {
    const error = codedError('ECONNREFUSED');
    const result = toUpstreamException(error, 'local', live());
    expect(result.message).toContain('ECONNREFUSED');
    expect(result.cause).toBe(error);
  });

  it('keeps the message and the cause of a broken connection', () => {
    // Node's own: "socket hang up" comes with ECONNRESET.
    const error = codedError('ECONNRESET', 'socket hang up');
    const result = toUpstreamException(error, 'anthropic', live());
    expect(result.failure).toBe('reset');
    expect(result.message).toContain('socket hang up');
    expect(result.cause).toBe(error);
  });

  it('reads the code of the error that caused a wrapped one', () => {
    const wrapped = new Error('fetch failed', { cause: codedError('ECONNREFUSED') });
    expect(toUpstreamException(wrapped, 'p', live()).failure).toBe('connect');
  });

  it('calls anything else an error, keeping its message and cause (not a reset: it is not retried)', () => {
    const error = new TypeError('Cannot read properties of undefined');
    const result = toUpstreamException(error, 'anthropic', live());
    expect(result.failure).toBe('error');
    expect(result.message).toContain('Cannot read properties of undefined');
    expect(result.cause).toBe(error);
  });

  it.each([['a string'], [null], [undefined], [42], [{ code: 7 }]])(
    'maps the non-error %p to error',
    (thrown) => {
      expect(toUpstreamException(thrown, 'p', live()).failure).toBe('error');
    },
  );

  it('returns an UpstreamException as it is', () => {
    const original = new UpstreamException('idle-timeout', 'p', 'idle');
    expect(toUpstreamException(original, 'other', live())).toBe(original);
    expect(toUpstreamException(original, 'other', aborted('client gone'))).toBe(original);
  });

  it('reports aborted, whatever the error, once the signal fired', () => {
    const error = codedError('UND_ERR_HEADERS_TIMEOUT');
    const result = toUpstreamException(error, 'openai', aborted('client gone'));
    expect(result.failure).toBe('aborted');
    expect(result.provider).toBe('openai');
    expect(result.cause).toBe(error);
  });

  it('returns the abort reason when it is an UpstreamException (a deadline)', () => {
    const deadline = new UpstreamException('timeout', 'openai', 'request timeout reached');
    expect(toUpstreamException(codedError('UND_ERR_ABORTED'), 'openai', aborted(deadline))).toBe(deadline);
  });
});
