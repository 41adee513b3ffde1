import { ProtocolViolation } from './protocol-violation';

describe('ProtocolViolation', () => {
  it('is an Error with its own name and the message it was given', () => {
    const error = new ProtocolViolation('content_block_delta for index 2 but block 1 is open');
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(ProtocolViolation);
    expect(error.name).toBe('ProtocolViolation');
    expect(error.message).toBe('content_block_delta for index 2 but block 1 is open');
  });
});
