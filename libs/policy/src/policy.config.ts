import { defineEnvConfig, env } from '@warden/config';
import { z } from 'zod';

const MIB = 1024 * 1024;

/** Policy chain source, plugin directory and buffering bound. */
export const policyConfig = defineEnvConfig(
  'policy',
  {
    POLICY_CONFIG: z
      .string()
      .default('config/policy.yaml')
      .describe('YAML file with the policy chain (`policies:` list); a missing file means no policies.'),
    POLICY_PLUGIN_DIR: env
      .optional()
      .describe(
        'Directory of operator-trusted JS policy modules loaded at startup (never from a request). Unset: none.',
      ),
    MAX_STREAM_BUFFER_BYTES: env
      .int(8 * MIB, 1024)
      .describe(
        'Most response bytes one policy may hold back per call (e.g. tool calls awaiting the judge).',
      ),
  },
  (e) => ({
    configFile: e.POLICY_CONFIG,
    pluginDir: e.POLICY_PLUGIN_DIR,
    maxStreamBufferBytes: e.MAX_STREAM_BUFFER_BYTES,
  }),
);
