/** A history query the store cannot serve: a cursor it did not issue or a malformed date (a 400 for the API). */
export class InvalidQueryError extends Error {
  readonly code = 'INVALID_QUERY';

  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueryError';
  }
}
