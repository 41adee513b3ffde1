import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PolicyType } from '../registry/policy-type';
import { PolicyConfigException } from '../registry/policy-config.exception';

function isPolicyType(value: unknown): value is PolicyType {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<PolicyType>;
  const options = v.options as { safeParse?: unknown } | null | undefined;
  return (
    typeof v.name === 'string' &&
    typeof v.description === 'string' &&
    typeof v.create === 'function' &&
    typeof options === 'object' &&
    options !== null &&
    typeof options.safeParse === 'function'
  );
}

/**
 * Loads custom policy types from the operator's plugin directory: every `.js`/`.cjs` file directly in it must
 * export `policyTypes` (an array of PolicyType). Only this directory is ever loaded, at startup; the trust model is
 * in docs/security.md.
 */
export function loadPluginPolicyTypes(dir: string): PolicyType[] {
  const root = resolve(dir);
  const files = readdirSync(root, { withFileTypes: true })
    .filter((f) => f.isFile() && (f.name.endsWith('.js') || f.name.endsWith('.cjs')))
    .map((f) => f.name)
    .sort();
  const types: PolicyType[] = [];
  for (const file of files) {
    const path = join(root, file);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- operator-trusted plugins, loaded at boot
    const mod = require(path) as { policyTypes?: unknown };
    if (!Array.isArray(mod.policyTypes) || !mod.policyTypes.every(isPolicyType)) {
      throw new PolicyConfigException(path, [
        'a policy plugin must export `policyTypes`: an array of policy types',
      ]);
    }
    types.push(...mod.policyTypes);
  }
  return types;
}
