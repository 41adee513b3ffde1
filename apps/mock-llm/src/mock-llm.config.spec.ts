import { DEFAULT_MOCK_LLM_PORT, mockLlmConfig } from './mock-llm.config';

describe('mockLlmConfig', () => {
  it('applies defaults', () => {
    expect(mockLlmConfig({})).toEqual({ port: DEFAULT_MOCK_LLM_PORT, host: '127.0.0.1', apiKey: undefined });
  });

  it('reads the variables, an empty key meaning none', () => {
    expect(mockLlmConfig({ MOCK_LLM_PORT: '0', MOCK_LLM_HOST: '0.0.0.0', MOCK_LLM_API_KEY: 'k' })).toEqual({
      port: 0,
      host: '0.0.0.0',
      apiKey: 'k',
    });
    expect(mockLlmConfig({ MOCK_LLM_API_KEY: '' }).apiKey).toBeUndefined();
  });

  it('fails naming the variable', () => {
    expect(() => mockLlmConfig({ MOCK_LLM_PORT: 'eighty' })).toThrow(/MOCK_LLM_PORT/);
    expect(() => mockLlmConfig({ MOCK_LLM_PORT: '70000' })).toThrow(/MOCK_LLM_PORT/);
  });
});
