/**
 * Thrown when a stream breaks its wire protocol: an SSE frame over the size bound, a canonical event out of
 * order (`content_block_delta for index 2 but block 1 is open`), an OpenAI stream that ends without a
 * `finish_reason`, and so on. The message says what was wrong; after the first SSE byte the gateway turns it
 * into an in-band error event of the client's protocol and ends the stream cleanly.
 */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}
