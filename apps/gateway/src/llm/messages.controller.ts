import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { ControlPlaneService } from '@warden/control-plane';
import type { Request, Response } from 'express';
import { LlmIngressService } from './llm-ingress.service';
import { anthropicCountTokensSchema, anthropicMessagesSchema } from './llm-request.schemas';

/** Anthropic Messages: `POST /v1/messages` (also `?beta=true`), and `POST /v1/messages/count_tokens`. */
@Controller('v1/messages')
export class MessagesController {
  constructor(
    @Inject(LlmIngressService) private readonly ingress: LlmIngressService,
    @Inject(ControlPlaneService) private readonly controlPlane: ControlPlaneService,
  ) {}

  @Post()
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    const call = await this.ingress.accept(req, 'anthropic', 'messages', anthropicMessagesSchema);
    await this.controlPlane.handle(call, res);
  }

  @Post('count_tokens')
  async countTokens(@Req() req: Request, @Res() res: Response): Promise<void> {
    const call = await this.ingress.accept(req, 'anthropic', 'messages', anthropicCountTokensSchema);
    await this.controlPlane.countTokens(call, res);
  }
}
