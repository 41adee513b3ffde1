import { Module } from '@nestjs/common';
import { UpstreamModule } from '@warden/upstream';
import { ControlPlaneService } from './control-plane.service';
import { NoopPolicyStage } from './policy/noop-policy-stage';
import { PolicyStage } from './policy/policy-stage.port';

/** The call pipeline. The policy stage is a port: no policies until the policy engine provides one. */
@Module({
  imports: [UpstreamModule],
  providers: [ControlPlaneService, { provide: PolicyStage, useClass: NoopPolicyStage }],
  exports: [ControlPlaneService, UpstreamModule],
})
export class ControlPlaneModule {}
