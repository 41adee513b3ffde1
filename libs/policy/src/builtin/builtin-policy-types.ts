import type { PolicyType } from '../registry/policy-type';
import { noopPolicyType } from './noop.policy';

/** Every built-in policy type, registered at startup. */
export const BUILTIN_POLICY_TYPES: readonly PolicyType[] = [noopPolicyType];
