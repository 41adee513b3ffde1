import { type DynamicModule, Module, type Type } from '@nestjs/common';
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
export class ControlPlaneModule {
  /**
   * The pipeline with its calls observed by the `CallObserver` that `observerModule` exports (metrics). Import
   * either this or the plain module in an app, not both (they would be two pipelines).
   */
  static withObserver(observerModule: Type | DynamicModule): DynamicModule {
    return { module: ControlPlaneModule, imports: [observerModule] };
  }
}
