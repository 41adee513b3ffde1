import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ControlChannel, type ControlMessage } from '@warden/events';
import { PolicyEngine, type ActiveChain } from '@warden/policy';

/**
 * Keeps the policy chain the same on every replica: a swap made here is broadcast on the control channel (Redis
 * `warden:control` when `REDIS_URL` is set), and swaps made on other replicas are applied here.
 */
@Injectable()
export class PolicySyncService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('PolicySync');
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(PolicyEngine) private readonly engine: PolicyEngine,
    @Inject(ControlChannel) private readonly control: ControlChannel,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.control.onMessage((message) => this.apply(message));
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  /** Tells the other replicas about a swap applied here; false when it could not be sent. */
  async broadcast(active: ActiveChain): Promise<boolean> {
    try {
      await this.control.broadcast({
        type: 'policy.swap',
        config: active.config,
        version: active.version,
        origin: this.control.instanceId,
      });
      return true;
    } catch (error) {
      this.logger.warn(
        `policy swap not sent to the other replicas: ${error instanceof Error ? error.message : String(error)}`,
      );
      return false;
    }
  }

  private apply(message: ControlMessage): void {
    try {
      const active = this.engine.swap(message.config, `replica ${message.origin}`);
      this.logger.log(
        `policy chain replaced from replica ${message.origin} (local version ${active.version})`,
      );
    } catch (error) {
      // The origin validated it; a failure here means this replica differs (plugins, environment): say so loudly.
      this.logger.error(
        `policy swap from ${message.origin} rejected here: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
