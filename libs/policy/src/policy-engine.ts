import { readFileSync } from 'node:fs';
import { interpolateEnv, InvalidConfigException, type Env } from '@warden/config';
import { parse as parseYaml } from 'yaml';
import type { Policy } from './core/policy';
import { PolicyChain } from './runtime/policy-chain';
import { PolicyTimings } from './runtime/policy-timings';
import { PolicyConfigException } from './registry/policy-config.exception';
import type { PolicyRegistry } from './registry/policy-registry';

/** What the admin API shows of the active chain. */
export interface ActiveChain {
  /** The configuration the chain was built from (secrets interpolated out: the raw, un-interpolated form). */
  readonly config: unknown;
  readonly policies: ReadonlyArray<{ name: string }>;
  readonly version: number;
  readonly updatedAt: string;
}

/** Listener of chain swaps (the admin API logs them as events; replicas broadcast them). */
export type ChainSwapListener = (active: ActiveChain) => void;

/**
 * Holds the active policy chain and swaps it atomically: a new configuration is validated and fully built before it
 * replaces the current chain; calls in flight keep the chain they started with.
 */
export class PolicyEngine {
  readonly timings = new PolicyTimings();
  private chain: PolicyChain;
  private active: ActiveChain;
  private readonly listeners = new Set<ChainSwapListener>();

  constructor(
    private readonly registry: PolicyRegistry,
    private readonly env: Env,
    private readonly maxBufferBytes: number,
    initialConfig: unknown,
    source: string,
  ) {
    const policies = this.build(initialConfig, source);
    this.chain = this.chainOf(policies);
    this.active = {
      config: initialConfig,
      policies: policies.map((p) => ({ name: p.name })),
      version: 1,
      updatedAt: new Date().toISOString(),
    };
  }

  /**
   * Reads the chain configuration file. A missing file is no policies, unless `required` (the operator named it:
   * a typo in the path must not turn the policies off): then a {@link PolicyConfigException}.
   */
  static readConfigFile(path: string, { required = false }: { required?: boolean } = {}): unknown {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (required) throw new PolicyConfigException(path, ['file not found (named by POLICY_CONFIG)']);
      return { policies: [] };
    }
    try {
      const document: unknown = parseYaml(text);
      return document ?? { policies: [] };
    } catch (error) {
      throw new PolicyConfigException(path, [
        `not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
      ]);
    }
  }

  /** The chain for a call starting now. */
  current(): PolicyChain {
    return this.chain;
  }

  describe(): ActiveChain {
    return this.active;
  }

  /** Validates and builds `config`, then swaps it in; throws PolicyConfigException and keeps the old chain. */
  swap(config: unknown, source: string): ActiveChain {
    const policies = this.build(config, source);
    this.chain = this.chainOf(policies);
    this.active = {
      config,
      policies: policies.map((p) => ({ name: p.name })),
      version: this.active.version + 1,
      updatedAt: new Date().toISOString(),
    };
    for (const listener of this.listeners) listener(this.active);
    return this.active;
  }

  onSwap(listener: ChainSwapListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private build(config: unknown, source: string): Policy[] {
    let interpolated: unknown;
    try {
      interpolated = interpolateEnv(config, this.env, source);
    } catch (error) {
      if (error instanceof InvalidConfigException) throw new PolicyConfigException(source, error.problems);
      throw error;
    }
    return this.registry.build(interpolated, source);
  }

  private chainOf(policies: Policy[]): PolicyChain {
    return new PolicyChain(policies, { maxBufferBytes: this.maxBufferBytes, timings: this.timings });
  }
}
