import { Module } from '@nestjs/common';
import { EventsModule } from '@warden/events';
import { PolicyModule } from '@warden/policy';
import { UpstreamModule } from '@warden/upstream';
import { ControlPlaneService } from './control-plane.service';

/** The call pipeline: policies, upstream, events. */
@Module({
  imports: [UpstreamModule, PolicyModule, EventsModule],
  providers: [ControlPlaneService],
  exports: [ControlPlaneService, UpstreamModule, PolicyModule, EventsModule],
})
export class ControlPlaneModule {}
