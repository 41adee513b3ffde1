import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';

/** Where the process is in its life: readiness and the drain gate read it. */
export type ServingPhase = 'starting' | 'serving' | 'draining';

/**
 * The serving phase of this replica: `starting` until every module has bootstrapped, `serving`, then `draining`
 * once shutdown began (readiness fails, new requests are refused, calls in flight finish). One-way.
 */
@Injectable()
export class ServingState implements OnApplicationBootstrap {
  private current: ServingPhase = 'starting';
  private drainingSince: number | undefined;

  get phase(): ServingPhase {
    return this.current;
  }

  /** Whether new requests are served (false while starting or draining). */
  get accepting(): boolean {
    return this.current === 'serving';
  }

  /** ms since draining began, or undefined. */
  get drainingForMs(): number | undefined {
    return this.drainingSince === undefined ? undefined : Date.now() - this.drainingSince;
  }

  onApplicationBootstrap(): void {
    if (this.current === 'starting') this.current = 'serving';
  }

  /** Starts draining; returns false when it had already begun. */
  beginDrain(): boolean {
    if (this.current === 'draining') return false;
    this.current = 'draining';
    this.drainingSince = Date.now();
    return true;
  }
}
