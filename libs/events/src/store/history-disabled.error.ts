/** A history read on a gateway that records no history (HISTORY_ENABLED=false): a 404 for the API. */
export class HistoryDisabledError extends Error {
  readonly code = 'HISTORY_DISABLED';

  constructor() {
    super('Conversation history is disabled on this gateway (HISTORY_ENABLED=false)');
    this.name = 'HistoryDisabledError';
  }
}
