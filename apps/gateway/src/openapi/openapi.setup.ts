import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config';
import { buildOpenApiDocument } from './openapi-document';

/** Where Swagger UI is served. */
export const DOCS_PATH = '/docs';
/** Where the OpenAPI document is served (JSON). */
export const DOCS_JSON_PATH = `${DOCS_PATH}/openapi.json`;

/**
 * Serves the API reference when `DOCS_ENABLED`: Swagger UI at {@link DOCS_PATH} and the OpenAPI document at
 * {@link DOCS_JSON_PATH}. The document is built once, here, at startup. Call before the app is initialised (the
 * routes are registered on Express ahead of the controllers'). Swagger UI loads its scripts from files (no inline
 * script, no eval) but its page has inline styles and data: images: see the `/docs` CSP in SecurityHeaders.
 */
export function setupOpenApi(app: INestApplication): void {
  const cfg = app.get<GatewayConfig>(gatewayConfig.KEY);
  if (!cfg.docsEnabled) return;
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'Warden API reference',
    // No request to the public validator service from the browser (the CSP would block it anyway).
    swaggerOptions: { validatorUrl: null },
  });
}
