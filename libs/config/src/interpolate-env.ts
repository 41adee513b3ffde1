import type { Env } from './env-config';
import { InvalidConfigException } from './invalid-config.exception';

const VARIABLE = /\$\{([A-Z0-9_]+)\}/g;

/**
 * Replaces `${VAR}` in every string value of a parsed YAML/JSON document (never in keys or comments) from `env`,
 * so secrets stay out of configuration files. A variable that is not set fails, naming it and the file.
 */
export function interpolateEnv(value: unknown, env: Env, source: string): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_match, name: string) => {
      const found = env[name];
      if (found === undefined) throw new InvalidConfigException(source, [`\${${name}} is not set`]);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolateEnv(v, env, source));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, source)]));
  }
  return value;
}
