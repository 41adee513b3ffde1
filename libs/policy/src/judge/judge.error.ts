/** Why a judge call failed. */
export type JudgeErrorCode =
  /** The judge answered a non-2xx status. */
  | 'http'
  /** No complete answer within the configured `timeoutMs`. */
  | 'timeout'
  /** The call was aborted (the client went away). */
  | 'aborted'
  /** Connection or transport failure. */
  | 'network'
  /** The judge answered, but not with what was asked (no text, no JSON object, missing fields). */
  | 'invalid-reply'
  /** What is to be judged is longer than the judge may be shown (it is not asked at all). */
  | 'too-long';

/**
 * A failed judge call. The message is safe to log and to show in events and blocked messages: it never contains
 * the API key, the prompt or the judged content.
 */
export class JudgeError extends Error {
  override readonly name = 'JudgeError';

  constructor(
    readonly code: JudgeErrorCode,
    message: string,
    /** HTTP status of an `http` failure. */
    readonly status?: number,
  ) {
    super(message);
  }
}
