import { applyDecorators } from '@nestjs/common';
import {
  ApiQuery,
  ApiResponse,
  ApiSecurity,
  ApiTags,
  type ReferenceObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { SECURITY } from './openapi-security';
import { ref } from './schemas/schema-ref';

/** Tags of the Nest-served parts of the API. */
export const API_TAGS = {
  models: 'Models',
  policy: 'Admin: policy',
  history: 'Admin: history',
  liveFeed: 'Admin: live feed',
  uiAuth: 'Admin: UI login',
  ui: 'Web UI',
  health: 'Health',
  metrics: 'Metrics',
} as const;

/** Documents an error status answered in the OpenAI error shape (the admin API's and `/v1/models`' default). */
export function ApiErrorResponse(
  status: number,
  description: string,
  schema: SchemaObject | ReferenceObject = ref('OpenAIError'),
): MethodDecorator & ClassDecorator {
  return ApiResponse({ status, description, content: { 'application/json': { schema } } });
}

/** A JSON 200 answer whose schema is the component `schema`. */
export function ApiJsonOk(schema: string, description: string): MethodDecorator & ClassDecorator {
  return ApiResponse({ status: 200, description, content: { 'application/json': { schema: ref(schema) } } });
}

/** The query parameters of a cursor-paginated, text-searchable list: `q`, `limit` and `cursor`. */
export function ApiPageQuery(page: { max: number; default: number }): MethodDecorator {
  return applyDecorators(
    ApiQuery({ name: 'q', required: false, description: 'Text search.' }),
    ApiQuery({
      name: 'limit',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: page.max, default: page.default },
    }),
    ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page.' }),
  );
}

/**
 * A controller of the admin API: the admin key (Bearer or `x-api-key`) or the UI session cookie, and the errors of
 * `AdminAuthGuard` (OpenAI error shape).
 */
export function ApiAdmin(tag: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    ApiSecurity(SECURITY.adminBearer),
    ApiSecurity(SECURITY.adminApiKey),
    ApiSecurity(SECURITY.uiSession),
    ApiErrorResponse(401, 'Missing or invalid admin key or session.'),
    ApiErrorResponse(
      403,
      'ADMIN_API_KEY is unset and the client is not on loopback, or a cookie-authenticated write came from another origin.',
    ),
  );
}

/** Errors of routes shared by both APIs: the Anthropic shape when the request sends `anthropic-version`. */
export const CLIENT_ERROR: SchemaObject = { anyOf: [ref('OpenAIError'), ref('AnthropicError')] };

/** A controller of the client-facing API: a client key (Bearer, `x-api-key`, `api-key` or `x-warden-api-key`). */
export function ApiClient(tag: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    ApiSecurity(SECURITY.clientBearer),
    ApiSecurity(SECURITY.clientApiKey),
    ApiSecurity(SECURITY.clientAzureKey),
    ApiSecurity(SECURITY.wardenApiKey),
    ApiErrorResponse(401, 'Missing or invalid client key.', CLIENT_ERROR),
  );
}
