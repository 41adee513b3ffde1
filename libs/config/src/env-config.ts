import { registerAs, type ConfigFactory } from '@nestjs/config';
import { type ConfigFactoryKeyHost } from '@nestjs/config';
import { z } from 'zod';
import { InvalidConfigException } from './invalid-config.exception';

/** The environment a configuration is read from: `process.env` in production, an explicit map in tests. */
export type Env = Record<string, string | undefined>;

/** Documentation attached to each variable; `.env.example` and the README table are checked against it. */
export interface EnvVarDoc {
  name: string;
  description: string;
  default?: string;
}

/** What the config root needs of a namespace, whatever its value type. */
export interface EnvNamespace {
  withEnv(env: Env): ConfigFactory;
  readonly variables: EnvVarDoc[];
}

/** A typed config namespace built from one zod schema over environment variables. */
export type EnvConfig<T extends object> = ConfigFactory<T> &
  ConfigFactoryKeyHost<T> & {
    /** Parse an explicit environment (fails fast with an {@link InvalidConfigException} naming the variable). */
    parse(env: Env): T;
    /** The same namespace (same injection KEY) bound to an explicit environment. */
    withEnv(env: Env): ConfigFactory<T> & ConfigFactoryKeyHost<T>;
    /** Every variable of the namespace with its description and default. */
    variables: EnvVarDoc[];
  };

/**
 * Defines a configuration namespace: a zod object over environment variable names, and a mapping to the
 * typed object services inject with `@Inject(config.KEY)`. Every variable must carry `.describe()`.
 */
export function defineEnvConfig<S extends z.ZodRawShape, T extends object>(
  namespace: string,
  shape: S,
  map: (env: z.infer<z.ZodObject<S>>) => T,
): EnvConfig<T> {
  const schema = z.object(shape);
  const parse = (env: Env): T => {
    const result = schema.safeParse(env);
    if (!result.success) {
      const problems = result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = env[name];
        const shown = value === undefined ? 'unset' : `"${redactIfSecret(name, value)}"`;
        return `${name} (${shown}): ${issue.message}`;
      });
      throw new InvalidConfigException(namespace, problems);
    }
    return Object.freeze(map(result.data));
  };
  const factory = registerAs(namespace, () => parse(process.env));
  const variables = Object.entries(shape).map(([name, type]) => describeVariable(name, type as z.ZodType));
  return Object.assign(factory, {
    parse,
    withEnv: (env: Env) => registerAs(namespace, () => parse(env)),
    variables,
  });
}

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD/i;

function redactIfSecret(name: string, value: string): string {
  return SECRET_NAME.test(name) ? '[redacted]' : value;
}

function describeVariable(name: string, type: z.ZodType): EnvVarDoc {
  const description = type.description;
  if (description === undefined) throw new Error(`Config variable ${name} has no description`);
  let fallback: string | undefined;
  let inner: z.ZodType = type;
  while (inner instanceof z.ZodPipe) inner = inner.in as z.ZodType;
  if (inner instanceof z.ZodDefault) {
    const value: unknown = inner.def.defaultValue;
    fallback = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return fallback === undefined ? { name, description } : { name, description, default: fallback };
}

/** Zod helpers for environment variables, which are always strings. */
export const env = {
  /** An integer with bounds and a default. */
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  /** A boolean written `true`/`false`/`1`/`0`. */
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  /** A comma-separated list; blanks dropped. */
  list: () =>
    z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      ),
  /** An http(s) URL without a trailing slash. */
  url: (fallback: string) =>
    z
      .url({ protocol: /^https?$/ })
      .default(fallback)
      .transform((v) => v.replace(/\/+$/, '')),
  /** An optional non-empty string (empty means unset). */
  optional: () =>
    z
      .string()
      .optional()
      .transform((v) => (v === undefined || v === '' ? undefined : v)),
};
