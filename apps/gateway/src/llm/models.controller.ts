import type { IncomingMessage } from 'node:http';
import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { ModelRouter, type AdvertisedModel } from '@warden/upstream';
import { ClientAuthService } from '../auth/client-auth.service';
import { ApiClient, ApiErrorResponse, API_TAGS, CLIENT_ERROR } from '../openapi/api-docs.decorators';
import { ref } from '../openapi/schemas/schema-ref';
import { clientFormatOf } from './client-format';

/** A fixed creation time for advertised models (the catalogue is configuration, not provider data). */
const CATALOGUE_EPOCH_SECONDS = 1_735_689_600;

function openaiModel(m: AdvertisedModel): Record<string, unknown> {
  return { id: m.id, object: 'model', created: CATALOGUE_EPOCH_SECONDS, owned_by: m.provider };
}

function anthropicModel(m: AdvertisedModel): Record<string, unknown> {
  return {
    type: 'model',
    id: m.id,
    display_name: m.id,
    created_at: new Date(CATALOGUE_EPOCH_SECONDS * 1000).toISOString(),
  };
}

/** `GET /v1/models`: the routable models, in the caller's format (Anthropic when it sends `anthropic-version`). */
@Controller('v1/models')
@ApiClient(API_TAGS.models)
@ApiHeader({
  name: 'anthropic-version',
  required: false,
  description: 'When present, the answer (and errors) use the Anthropic format; otherwise OpenAI.',
})
export class ModelsController {
  constructor(
    @Inject(ClientAuthService) private readonly auth: ClientAuthService,
    @Inject(ModelRouter) private readonly router: ModelRouter,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List models',
    description: 'The models this gateway routes (configured and mock).',
  })
  @ApiResponse({
    status: 200,
    description: 'OpenAI list, or Anthropic list with `anthropic-version`.',
    content: {
      'application/json': { schema: { anyOf: [ref('OpenAIModelList'), ref('AnthropicModelList')] } },
    },
  })
  list(@Req() req: IncomingMessage): Record<string, unknown> {
    this.auth.authenticate(req, { forUpstream: false });
    const models = this.router.models();
    if (clientFormatOf(req) === 'anthropic') {
      return {
        data: models.map(anthropicModel),
        has_more: false,
        first_id: models[0]?.id ?? null,
        last_id: models.at(-1)?.id ?? null,
      };
    }
    return { object: 'list', data: models.map(openaiModel) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One model', description: 'A model this gateway routes.' })
  @ApiParam({ name: 'id', description: 'Model id.' })
  @ApiResponse({
    status: 200,
    description: 'OpenAI model, or Anthropic model with `anthropic-version`.',
    content: { 'application/json': { schema: { anyOf: [ref('OpenAIModel'), ref('AnthropicModel')] } } },
  })
  @ApiErrorResponse(404, 'No upstream serves this model.', CLIENT_ERROR)
  get(@Req() req: IncomingMessage, @Param('id') id: string): Record<string, unknown> {
    this.auth.authenticate(req, { forUpstream: false });
    const model = this.router.models().find((m) => m.id === id);
    if (model === undefined) {
      throw new GatewayException(
        GatewayErrorCode.ModelNotFound,
        `The model '${id}' is not served by this gateway`,
        {
          param: 'model',
        },
      );
    }
    return clientFormatOf(req) === 'anthropic' ? anthropicModel(model) : openaiModel(model);
  }
}
