import { z } from 'zod';

/** Default port of the standalone mock. */
export const DEFAULT_MOCK_LLM_PORT = 8100;
/** Highest TCP port. */
const MAX_PORT = 65_535;

const schema = z.object({
  MOCK_LLM_PORT: z.coerce.number().int().min(0).max(MAX_PORT).default(DEFAULT_MOCK_LLM_PORT),
  MOCK_LLM_HOST: z.string().min(1).default('127.0.0.1'),
  MOCK_LLM_API_KEY: z
    .string()
    .optional()
    .transform((key) => (key === '' ? undefined : key)),
});

/** Configuration of the standalone mock LLM process. */
export interface MockLlmConfig {
  port: number;
  host: string;
  /** Key the clients must send; `undefined` accepts any request. */
  apiKey: string | undefined;
}

/**
 * Reads the mock's configuration from the environment (`MOCK_LLM_PORT`, `MOCK_LLM_HOST`, `MOCK_LLM_API_KEY`).
 * @throws Error naming the offending variable when a value is invalid.
 */
export function mockLlmConfig(env: NodeJS.ProcessEnv = process.env): MockLlmConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`Invalid mock LLM configuration: ${details}`);
  }
  return {
    port: parsed.data.MOCK_LLM_PORT,
    host: parsed.data.MOCK_LLM_HOST,
    apiKey: parsed.data.MOCK_LLM_API_KEY,
  };
}
