import { defineEnvConfig, env } from '@warden/config';

const MIB = 1024 * 1024;

/** The policy chain file read when POLICY_CONFIG is unset (relative to the working directory). */
export const DEFAULT_POLICY_CONFIG = 'config/policy.yaml';

/** Policy chain source, plugin directory and buffering bound. */
export const policyConfig = defineEnvConfig(
  'policy',
  {
    POLICY_CONFIG: env
      .optional()
      .describe(
        'YAML file with the policy chain (`policies:` list); a file named here must exist. Unset: ' +
          `${DEFAULT_POLICY_CONFIG}, where a missing file means no policies.`,
      ),
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
    configFile: e.POLICY_CONFIG ?? DEFAULT_POLICY_CONFIG,
    /** The file was named (POLICY_CONFIG): a missing one is an error, not an empty chain (a typo must not drop the judge). */
    configFileRequired: e.POLICY_CONFIG !== undefined,
    pluginDir: e.POLICY_PLUGIN_DIR,
    maxStreamBufferBytes: e.MAX_STREAM_BUFFER_BYTES,
  }),
);
