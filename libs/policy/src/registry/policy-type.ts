import type { z } from 'zod';
import type { Policy } from '../core/policy';

/** What a policy factory may use besides its options. */
export interface PolicyDeps {
  /** The instance name the policy must report as `name`. */
  readonly name: string;
}

/**
 * A policy type: a stable name, a zod schema for its options (the single source of validation and of the JSON
 * schema the admin API shows), and a factory. Registered in the {@link PolicyRegistry}.
 */
export interface PolicyType<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly options: S;
  create(options: z.output<S>, deps: PolicyDeps): Policy;
}

/** Declares a policy type with its options inferred from the schema. */
export function definePolicyType<S extends z.ZodType>(type: PolicyType<S>): PolicyType<S> {
  return type;
}
