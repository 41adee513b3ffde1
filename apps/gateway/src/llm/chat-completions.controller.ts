import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { ControlPlaneService } from '@warden/control-plane';
import type { Request, Response } from 'express';
import { LlmIngressService } from './llm-ingress.service';
import { openaiChatSchema } from './llm-request.schemas';

/** OpenAI Chat Completions: `POST /v1/chat/completions`, streaming or not. */
@Controller('v1/chat')
export class ChatCompletionsController {
  constructor(
    @Inject(LlmIngressService) private readonly ingress: LlmIngressService,
    @Inject(ControlPlaneService) private readonly controlPlane: ControlPlaneService,
  ) {}

  @Post('completions')
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    const call = await this.ingress.accept(req, 'openai', 'chat', openaiChatSchema);
    await this.controlPlane.handle(call, res);
  }
}
