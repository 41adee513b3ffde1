import { createHash } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ControlChannel, type ControlMessage } from '@warden/events';
import { errorMessage } from '@warden/observability';
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
 *
 * The newest swap is also kept on the channel: a replica takes it when it connects (started later, or back from a
 * Redis outage during which it missed messages), provided it started with the same policy file as the swap's origin
 * (a changed file wins over an older runtime swap). Startup waits for that first read (at most
 * {@link STARTUP_SYNC_WAIT_MS}), so that a replica started after a swap never serves a call with its file's chain.
 */
@Injectable()
export class PolicySyncService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('PolicySync');
  private readonly unsubscribe: Array<() => void> = [];
  /** The sequence number of the chain in force here (0: the chain it started with), and who made it. */
  private current = { seq: 0, origin: 'startup' };
  /** The digest of the policy configuration this replica started with (see PolicySwapMessage.base). */
  private readonly base: string;
  /**
   * The chain here was set without a sequence number (a swap made while the channel was down, or one from a
   * replica of an earlier release): when the channel connects, it is sent as the newest rather than replaced by
   * the kept swap.
   */
  private unsequenced = false;
  /** Settles when the first catch-up (on the channel's first connection) is done, whatever it found. */
  private readonly firstCatchUp: Promise<void>;
  private caughtUp: () => void = () => undefined;

  constructor(
    @Inject(PolicyEngine) private readonly engine: PolicyEngine,
    @Inject(ControlChannel) private readonly control: ControlChannel,
  ) {
    this.base = digestOf(engine.describe().config);
    this.firstCatchUp = new Promise((resolve) => {
      this.caughtUp = resolve;
    });
  }

  onModuleInit(): void {
    this.unsubscribe.push(
      this.control.onMessage((message) => this.apply(message)),
      this.control.onConnect(
        () =>
          void this.catchUp()
            .catch((error: unknown) => this.logger.error(`policy catch-up failed: ${errorMessage(error)}`))
            .finally(this.caughtUp),
      ),
    );
  }

  /**
   * Holds startup (the server listens after every module has bootstrapped) until the channel has connected and the
   * newest kept swap was read and, when newer and over the same policy file, applied; at most `waitMs`: with Redis
   * down the replica serves its file's chain and takes the kept swap when the channel connects.
   */
  async onApplicationBootstrap(waitMs: number = STARTUP_SYNC_WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((resolve) => {
      timer = setTimeout(resolve, waitMs, true);
    });
    const late = await Promise.race([this.firstCatchUp, timedOut]);
    clearTimeout(timer);
    if (late === true)
      this.logger.warn(
        `the control channel did not connect within ${waitMs} ms: serving the policy file's chain until it does ` +
          '(then a newer swap made on another replica is applied)',
      );
  }

  onApplicationShutdown(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }

  /**
   * Validates and swaps `config` in here, then tells the other replicas (`replicated`: whether they were told).
   * Throws what {@link PolicyEngine.swap} throws for an invalid chain, and {@link SupersededSwapError} when a newer
   * swap from another replica arrived meanwhile (nothing changed). Without the channel (Redis down) the swap is
   * made here only.
   */
  async swap(config: unknown, source: string): Promise<{ active: ActiveChain; replicated: boolean }> {
    let seq: number | undefined;
    let unavailable: unknown;
    try {
      seq = await this.control.nextSequence(this.current.seq);
    } catch (error) {
      unavailable = error;
    }
    if (seq !== undefined && seq <= this.current.seq) throw new SupersededSwapError(this.current.origin);
    const active = this.engine.swap(config, source);
    if (seq === undefined) {
      this.unsequenced = true;
      this.logger.warn(
        `policy swap made on this replica only, sent to the others when the channel is back: ${errorMessage(unavailable)}`,
      );
      return { active, replicated: false };
    }
    this.current = { seq, origin: this.control.instanceId };
    this.unsequenced = false;
    return { active, replicated: await this.send(active, seq) };
  }

  /** Keeps and broadcasts the chain in force here as swap `seq`; whether the other replicas were told. */
  private async send(active: ActiveChain, seq: number): Promise<boolean> {
    const message: ControlMessage = {
      type: 'policy.swap',
      config: active.config,
      version: active.version,
      origin: this.control.instanceId,
      seq,
      base: this.base,
    };
    // Kept before it is sent: a replica that connects in between finds it kept.
    try {
      await this.control.keep(message);
    } catch (error) {
      this.logger.warn(`policy swap not kept for replicas that start later: ${errorMessage(error)}`);
    }
    try {
      await this.control.broadcast(message);
      return true;
    } catch (error) {
      this.logger.warn(`policy swap not sent to the other replicas: ${errorMessage(error)}`);
      return false;
    }
  }

  /**
   * On connecting: sends the chain here when it was set without a sequence number (it is the newest change this
   * replica knows of), else takes the kept swap when it is newer and was made over the same policy file.
   */
  private async catchUp(): Promise<void> {
    if (this.unsequenced) {
      await this.sendUnsequenced();
      return;
    }
    let kept: ControlMessage | undefined;
    try {
      kept = await this.control.kept();
    } catch (error) {
      this.logger.warn(`the newest policy swap could not be read: ${errorMessage(error)}`);
      return;
    }
    if (kept?.seq === undefined || kept.seq <= this.current.seq) return;
    if (kept.base !== this.base) {
      this.logger.log(
        `the newest policy swap (from replica ${kept.origin}) was made over another policy file: ` +
          'this replica keeps the chain of its own',
      );
      return;
    }
    this.apply(kept);
  }

  private async sendUnsequenced(): Promise<void> {
    let seq: number;
    try {
      seq = await this.control.nextSequence(this.current.seq);
    } catch (error) {
      this.logger.warn(`the policy chain set here could not be sent yet: ${errorMessage(error)}`);
      return;
    }
    // A newer swap arrived meanwhile (it cleared the flag), or this one is already out.
    if (!this.unsequenced || seq <= this.current.seq) return;
    this.unsequenced = false;
    this.current = { seq, origin: this.control.instanceId };
    if (await this.send(this.engine.describe(), seq))
      this.logger.log('the policy chain set here while the channel was down was sent to the other replicas');
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
      // A swap with a number supersedes a change without one; a change without one is sent when connecting.
      this.unsequenced = seq === undefined;
      this.logger.log(
        `policy chain replaced from replica ${message.origin} (local version ${active.version})`,
      );
    } catch (error) {
      // The origin validated it; a failure here means this replica differs (plugins, environment): say so loudly.
      this.logger.error(`policy swap from ${message.origin} rejected here: ${errorMessage(error)}`);
    }
  }
}

/**
 * How long startup waits for the control channel's first connection and the read of the kept swap (Redis answers in
 * milliseconds when it is up; the store's first connection attempt is given as long).
 */
export const STARTUP_SYNC_WAIT_MS = 3_000;

/** A short digest of a policy configuration as JSON (the same file gives the same digest). */
function digestOf(config: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(config) ?? 'undefined')
    .digest('hex')
    .slice(0, DIGEST_HEX_CHARS);
}

const DIGEST_HEX_CHARS = 16;
