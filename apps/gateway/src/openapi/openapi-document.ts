import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type ParameterObject,
  type PathItemObject,
  type ReferenceObject,
} from '@nestjs/swagger';
import { API_TAGS } from './api-docs.decorators';
import { ANTHROPIC_TAG, LLM_PATHS, OPENAI_TAG } from './llm-paths';
import { OPERATIONAL_OPERATIONS } from './operational-paths';
import { SECURITY_SCHEMES } from './openapi-security';
import { ADMIN_SCHEMAS } from './schemas/admin.schemas';
import { ANTHROPIC_SCHEMAS } from './schemas/anthropic.schemas';
import { OPENAI_SCHEMAS } from './schemas/openai.schemas';

/** OpenAPI version of the document (JSON Schema 2020-12 schemas). */
const OPENAPI_VERSION = '3.1.0';
/** Version of the documented API (the `/v1` LLM routes and the admin API). */
const API_VERSION = '1';

const DESCRIPTION =
  'Warden is an AI-control gateway: it proxies the OpenAI Chat Completions and Anthropic Messages APIs (streaming ' +
  'and not) to upstream providers, runs policies on requests and responses, publishes events and keeps a history.\n\n' +
  'Errors always use the caller\'s API shape: OpenAI `{"error": {message, type, param, code}}` on OpenAI routes and ' +
  'the admin API, Anthropic `{"type": "error", "error": {type, message}}` on Anthropic routes (and on `/v1/models` ' +
  'when the request sends `anthropic-version`). Every LLM answer carries `x-warden-call-id`.';

const TAGS: ReadonlyArray<readonly [name: string, description: string]> = [
  [OPENAI_TAG, 'OpenAI-compatible Chat Completions (any configured provider behind it).'],
  [ANTHROPIC_TAG, 'Anthropic-compatible Messages (any configured provider behind it).'],
  [API_TAGS.models, "The models the gateway routes, in either API's format."],
  [API_TAGS.policy, 'Inspect and replace the policy chain.'],
  [API_TAGS.history, 'Recorded calls and sessions.'],
  [API_TAGS.liveFeed, 'Live events (Server-Sent Events).'],
  [API_TAGS.uiAuth, 'Web UI login with the admin key.'],
  [API_TAGS.ui, 'The web UI pages and assets (HTML, not an API).'],
  [API_TAGS.health, 'Probes for orchestrators and operators.'],
  [API_TAGS.metrics, 'Prometheus scrape endpoint.'],
];

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type HttpMethod = (typeof HTTP_METHODS)[number];

function isHttpMethod(value: string): value is HttpMethod {
  return (HTTP_METHODS as readonly string[]).includes(value);
}

/**
 * Builds the OpenAPI document of the whole gateway once: the Nest controllers as scanned by `@nestjs/swagger`
 * (with their decorators), the LLM routes (served ahead of Nest, so described in {@link LLM_PATHS}) and the
 * operational routes described in {@link OPERATIONAL_OPERATIONS}, with the shared schemas and security schemes.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setOpenAPIVersion(OPENAPI_VERSION)
    .setTitle('Warden gateway')
    .setDescription(DESCRIPTION)
    .setVersion(API_VERSION);
  for (const [name, description] of TAGS) builder.addTag(name, description);
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) builder.addSecurity(name, scheme);
  const config = builder.build();
  config.components = {
    ...config.components,
    schemas: { ...OPENAI_SCHEMAS, ...ANTHROPIC_SCHEMAS, ...ADMIN_SCHEMAS },
  };

  const document = SwaggerModule.createDocument(app, config);
  for (const [path, item] of Object.entries(LLM_PATHS)) {
    document.paths[path] = { ...document.paths[path], ...item };
  }
  applyOperationalDocs(document);
  declarePathParameters(document);
  return document;
}

function isPathParameter(parameter: ParameterObject | ReferenceObject): parameter is ParameterObject {
  return 'in' in parameter && parameter.in === 'path';
}

/**
 * Makes each operation's path parameters match its path template: one handler may serve several paths
 * (`@Get(['', 'sessions/:id'])`), so a `{name}` may lack its parameter, or a parameter belong to a sibling path.
 */
function declarePathParameters(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const parameters = (operation.parameters ?? []).filter(
        (p) => !isPathParameter(p) || names.includes(p.name),
      );
      for (const name of names) {
        if (!parameters.some((p) => isPathParameter(p) && p.name === name)) {
          parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
        }
      }
      operation.parameters = parameters;
    }
  }
}

/** Replaces the scanned (bare) operations of undecorated controllers with their descriptions, where served. */
function applyOperationalDocs(document: OpenAPIObject): void {
  for (const [route, operation] of Object.entries(OPERATIONAL_OPERATIONS)) {
    const [method = '', path = ''] = route.split(' ');
    const lower = method.toLowerCase();
    if (!isHttpMethod(lower)) throw new Error(`Bad operational route key: ${route}`);
    const item: PathItemObject | undefined = document.paths[path];
    const scanned = item?.[lower];
    if (item === undefined || scanned === undefined) continue;
    item[lower] = { ...operation, operationId: scanned.operationId };
  }
}
