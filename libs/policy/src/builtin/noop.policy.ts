import { z } from 'zod';
import type { Policy } from '../core/policy';
import { definePolicyType } from '../registry/policy-type';

/** `noop`: does nothing; every phase stays on the pass-through fast path. */
export const noopPolicyType = definePolicyType({
  name: 'noop',
  description: 'Does nothing: requests and responses pass through untouched.',
  options: z.object({}).strict(),
  create: (_options, { name }): Policy => ({ name }),
});
