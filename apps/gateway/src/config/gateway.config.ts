import { defineEnvConfig, env, InvalidConfigException } from '@warden/config';
import { z } from 'zod';

const MIB = 1024 * 1024;

/** How clients authenticate and which credential goes upstream. */
export type AuthMode = 'proxy-key' | 'passthrough' | 'both';

/** HTTP ingress: listen address, client keys, auth mode, request limits, the embedded mock, the API docs. */
export const gatewayConfig = defineEnvConfig(
  'gateway',
  {
    NODE_ENV: z
      .enum(['development', 'production', 'test'])
      .default('development')
      .describe('production refuses to start without PROXY_API_KEYS.'),
    PORT: env.int(8000, 0, 65_535).describe('HTTP port the gateway listens on.'),
    HOST: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Bind address; 0.0.0.0 exposes the gateway to the network (set PROXY_API_KEYS first).'),
    PROXY_API_KEYS: env
      .list()
      .describe(
        'Comma-separated client keys (Authorization: Bearer, x-api-key, or api-key as Azure OpenAI clients send it). Unset: loopback clients only.',
      ),
    AUTH_MODE: z
      .enum(['proxy-key', 'passthrough', 'both'])
      .default('proxy-key')
      .describe(
        "proxy-key: clients send a proxy key, the gateway's provider keys go upstream; passthrough: the client's own provider credential goes upstream (proxy key, if any, in x-warden-api-key); both: a proxy key uses the gateway's keys, any other credential is passed through.",
      ),
    ADMIN_API_KEY: env
      .optional()
      .describe(
        'Key for the admin API and UI (Authorization: Bearer or x-api-key). Unset: admin routes serve loopback only.',
      ),
    MAX_REQUEST_BYTES: env
      .int(32 * MIB, 1024)
      .describe('Largest request body accepted on the LLM routes (413 beyond).'),
    MAX_MESSAGES: env.int(5000, 1).describe('Most messages one request may carry (400 beyond).'),
    MAX_TOOLS: env.int(1000, 1).describe('Most tool definitions one request may carry (400 beyond).'),
    MOCK_MODELS_ENABLED: env
      .bool(true)
      .describe('Serve mock-* models from the built-in mock LLM (in-process, loopback only).'),
    TRUST_PROXY: env
      .list()
      .describe(
        'Comma-separated IPs or CIDR ranges of reverse proxies / load balancers whose X-Forwarded-For is believed for per-IP rate limits and logs (e.g. 10.0.0.0/8). Unset: the TCP peer address is the client.',
      ),
    DOCS_ENABLED: env
      .bool(true)
      .describe('Serve the API reference: Swagger UI at /docs, the OpenAPI document at /docs/openapi.json.'),
  },
  (e) => {
    if (e.NODE_ENV === 'production' && e.PROXY_API_KEYS.length === 0) {
      throw new InvalidConfigException('gateway', [
        'PROXY_API_KEYS (unset): must be set when NODE_ENV=production',
      ]);
    }
    return {
      nodeEnv: e.NODE_ENV,
      port: e.PORT,
      host: e.HOST,
      proxyApiKeys: e.PROXY_API_KEYS,
      authMode: e.AUTH_MODE,
      adminApiKey: e.ADMIN_API_KEY,
      maxRequestBytes: e.MAX_REQUEST_BYTES,
      maxMessages: e.MAX_MESSAGES,
      maxTools: e.MAX_TOOLS,
      mockModelsEnabled: e.MOCK_MODELS_ENABLED,
      trustProxy: e.TRUST_PROXY,
      docsEnabled: e.DOCS_ENABLED,
    };
  },
);

/** The typed gateway configuration. */
export type GatewayConfig = ReturnType<typeof gatewayConfig.parse>;
