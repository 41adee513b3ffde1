/** The two wire APIs Warden speaks, to clients and to upstreams. */
export type WireFormat = 'openai' | 'anthropic';

/** Every wire format, for iteration and validation. */
export const WIRE_FORMATS: readonly WireFormat[] = ['openai', 'anthropic'];
