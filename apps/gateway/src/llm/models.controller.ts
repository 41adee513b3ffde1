import type { IncomingMessage } from 'node:http';
import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { ModelRouter, type AdvertisedModel } from '@warden/upstream';
import { ClientAuthService } from '../auth/client-auth.service';
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
export class ModelsController {
  constructor(
    @Inject(ClientAuthService) private readonly auth: ClientAuthService,
    @Inject(ModelRouter) private readonly router: ModelRouter,
  ) {}

  @Get()
  list(@Req() req: IncomingMessage): Record<string, unknown> {
    this.auth.authenticate(req);
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
  get(@Req() req: IncomingMessage, @Param('id') id: string): Record<string, unknown> {
    this.auth.authenticate(req);
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
