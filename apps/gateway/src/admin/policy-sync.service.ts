import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ControlChannel, type ControlMessage } from '@warden/events';
import { PolicyEngine, type ActiveChain } from '@warden/policy';

/** A swap made here lost to a newer one from another replica, applied while this one was being ordered. */
export class SupersededSwapError extends Error {
  constructor(readonly by: string) {
    super(
      `a newer policy chain from ${by} was applied while this one was being sent; ` +
        'nothing was changed by this request: read GET /api/policy and send it again if it still applies',
    );
    this.name = 'SupersededSwapError';
  }
}

/**
 * Keeps the policy chain the same on every replica: a swap made here is broadcast on the control channel (Redis
 * `warden:control` when `REDIS_URL` is set), and swaps made on other replicas are applied here.
 *
 * Swaps are ordered by the channel's sequence numbers, taken before a swap is applied: each replica applies a swap
 * only when its number is higher than that of the one it holds, so that two swaps made at once on two replicas leave
 * every replica with the same chain (the later one), whichever order the messages arrive in.
 */
@Injectable()
export class PolicySyncService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('PolicySync');
  private unsubscribe: (() => void) | undefined;
  /** The sequence number of the chain in force here (0: the chain it started with), and who made it. */
  private current = { seq: 0, origin: 'startup' };

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

  /**
   * Validates and swaps `config` in here, then tells the other replicas (`replicated`: whether they were told).
   * Throws what {@link PolicyEngine.swap} throws for an invalid chain, and {@link SupersededSwapError} when a newer
   * swap from another replica arrived meanwhile (nothing changed). Without the channel (Redis down) the swap is
   * made here only.
   */
  async swap(config: unknown, source: string): Promise<{ active: ActiveChain; replicated: boolean }> {
    let seq: number | undefined;
    try {
      seq = await this.control.nextSequence();
    } catch (error) {
      this.logger.warn(`policy swap made on this replica only: ${messageOf(error)}`);
    }
    if (seq !== undefined && seq <= this.current.seq) throw new SupersededSwapError(this.current.origin);
    const active = this.engine.swap(config, source);
    if (seq === undefined) return { active, replicated: false };
    this.current = { seq, origin: this.control.instanceId };
    return { active, replicated: await this.broadcast(active, seq) };
  }

  private async broadcast(active: ActiveChain, seq: number): Promise<boolean> {
    try {
      await this.control.broadcast({
        type: 'policy.swap',
        config: active.config,
        version: active.version,
        origin: this.control.instanceId,
        seq,
      });
      return true;
    } catch (error) {
      this.logger.warn(`policy swap not sent to the other replicas: ${messageOf(error)}`);
      return false;
    }
  }

  private apply(message: ControlMessage): void {
    const seq = message.seq;
    if (seq !== undefined && seq <= this.current.seq) {
      this.logger.log(
        `policy swap from replica ${message.origin} ignored: the chain from ${this.current.origin} here is newer`,
      );
      return;
    }
    try {
      const active = this.engine.swap(message.config, `replica ${message.origin}`);
      if (seq !== undefined) this.current = { seq, origin: `replica ${message.origin}` };
      this.logger.log(
        `policy chain replaced from replica ${message.origin} (local version ${active.version})`,
      );
    } catch (error) {
      // The origin validated it; a failure here means this replica differs (plugins, environment): say so loudly.
      this.logger.error(`policy swap from ${message.origin} rejected here: ${messageOf(error)}`);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
