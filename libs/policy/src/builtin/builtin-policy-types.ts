import type { PolicyType } from '../registry/policy-type';
import { noopPolicyType } from './noop.policy';
import { llmRulesPolicyType } from '../judge/llm-rules.policy';
import { toolCallJudgePolicyType } from '../judge/tool-call-judge.policy';

/** Every built-in policy type, registered at startup. */
export const BUILTIN_POLICY_TYPES: readonly PolicyType[] = [noopPolicyType, toolCallJudgePolicyType, llmRulesPolicyType];
