import type { SecurityRequirementObject, SecuritySchemeObject } from '@nestjs/swagger';
import { SESSION_COOKIE } from '../ui/ui-session.service';

/** Names of the security schemes in the OpenAPI document (used by controller decorators and the LLM paths). */
export const SECURITY = {
  /** A client key (`PROXY_API_KEYS`) as `Authorization: Bearer`. */
  clientBearer: 'clientBearer',
  /** A client key as `x-api-key` (what the Anthropic SDK sends). */
  clientApiKey: 'clientApiKey',
  /** A client key as `api-key` (what Azure OpenAI clients send). */
  clientAzureKey: 'clientAzureKey',
  /** The proxy key in `x-warden-api-key` when the provider credential is passed through (`AUTH_MODE`). */
  wardenApiKey: 'wardenApiKey',
  /** `ADMIN_API_KEY` as `Authorization: Bearer`. */
  adminBearer: 'adminBearer',
  /** `ADMIN_API_KEY` as `x-api-key`. */
  adminApiKey: 'adminApiKey',
  /** The web UI session cookie set by `POST /api/auth/login`. */
  uiSession: 'uiSession',
  /** `METRICS_TOKEN` as `Authorization: Bearer`. */
  metricsToken: 'metricsToken',
} as const;

/** The security scheme objects, by name. */
export const SECURITY_SCHEMES: Readonly<Record<string, SecuritySchemeObject>> = {
  [SECURITY.clientBearer]: {
    type: 'http',
    scheme: 'bearer',
    description:
      'A client key from PROXY_API_KEYS (OpenAI SDK style). With no key configured, loopback clients need none. ' +
      "In AUTH_MODE=passthrough|both, the client's own provider key is accepted here and forwarded upstream.",
  },
  [SECURITY.clientApiKey]: {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
    description: 'A client key from PROXY_API_KEYS (Anthropic SDK style); same rules as the Bearer form.',
  },
  [SECURITY.clientAzureKey]: {
    type: 'apiKey',
    in: 'header',
    name: 'api-key',
    description:
      'A client key from PROXY_API_KEYS (Azure OpenAI client style); same rules as the Bearer form.',
  },
  [SECURITY.wardenApiKey]: {
    type: 'apiKey',
    in: 'header',
    name: 'x-warden-api-key',
    description:
      'The proxy key when the provider credential is passed through (AUTH_MODE=passthrough): the provider key ' +
      'goes in Authorization / x-api-key / api-key, the proxy key here.',
  },
  [SECURITY.adminBearer]: {
    type: 'http',
    scheme: 'bearer',
    description:
      'ADMIN_API_KEY. Unset: the admin API serves loopback clients (under a loopback host name) only.',
  },
  [SECURITY.adminApiKey]: {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
    description: 'ADMIN_API_KEY as x-api-key.',
  },
  [SECURITY.uiSession]: {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description:
      'The UI session cookie set by POST /api/auth/login (HttpOnly, SameSite=Strict); cross-origin writes are refused.',
  },
  [SECURITY.metricsToken]: {
    type: 'http',
    scheme: 'bearer',
    description: 'METRICS_TOKEN, when set; without it /metrics is open (restrict it at the network).',
  },
};

/** Alternatives that authenticate an LLM call or a models request. */
export const CLIENT_SECURITY: SecurityRequirementObject[] = [
  { [SECURITY.clientBearer]: [] },
  { [SECURITY.clientApiKey]: [] },
  { [SECURITY.clientAzureKey]: [] },
  { [SECURITY.wardenApiKey]: [] },
];

/** Alternatives that open the admin API. */
export const ADMIN_SECURITY: SecurityRequirementObject[] = [
  { [SECURITY.adminBearer]: [] },
  { [SECURITY.adminApiKey]: [] },
  { [SECURITY.uiSession]: [] },
];
