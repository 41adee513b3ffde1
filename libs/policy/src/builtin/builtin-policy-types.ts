import type { PolicyType } from '../registry/policy-type';
import { noopPolicyType } from './noop.policy';
import { regexBlockPolicyType } from './regex-block.policy';
import { stringReplacePolicyType } from './string-replace.policy';
import { uppercaseNthWordPolicyType } from './uppercase-nth-word.policy';
import { llmRulesPolicyType } from '../judge/llm-rules.policy';
import { toolCallJudgePolicyType } from '../judge/tool-call-judge.policy';

/** Every built-in policy type, registered at startup. */
export const BUILTIN_POLICY_TYPES: readonly PolicyType[] = [
  noopPolicyType,
  uppercaseNthWordPolicyType,
  stringReplacePolicyType,
  regexBlockPolicyType,
  toolCallJudgePolicyType,
  llmRulesPolicyType,
];
