import { Controller, Get } from '@nestjs/common';

/** Liveness: the process answers. Readiness and dependency details come with the health module. */
@Controller('health')
export class HealthController {
  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
