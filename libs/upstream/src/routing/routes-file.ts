import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Env } from '@warden/config';
import { interpolateEnv, InvalidConfigException } from '@warden/config';
import { CREDENTIAL_HEADERS } from '@warden/llm';

const httpUrl = z.url({ protocol: /^https?$/ }).transform((v) => v.replace(/\/+$/, ''));

const timeoutsSchema = z
  .object({
    connectMs: z.number().int().positive(),
    firstTokenMs: z.number().int().positive(),
    idleMs: z.number().int().positive(),
    totalMs: z.number().int().positive(),
  })
  .partial()
  .strict();

const providerSchema = z
  .object({
    openaiBaseUrl: httpUrl.optional(),
    anthropicBaseUrl: httpUrl.optional(),
    apiKey: z.string().optional(),
    /** The upstream checks no credential (a local model server without a key): see Provider.acceptsAnyCredential. */
    acceptsAnyCredential: z.boolean().optional(),
    /** The header its key goes in (see Provider.credentialHeader): `api-key` for Azure OpenAI's deployment API. */
    credentialHeader: z.enum(CREDENTIAL_HEADERS).optional(),
  })
  .strict()
  .refine((p) => p.openaiBaseUrl !== undefined || p.anthropicBaseUrl !== undefined, {
    message: 'a provider needs openaiBaseUrl or anthropicBaseUrl',
  });

const routesFileSchema = z
  .object({
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i), providerSchema).default({}),
    routes: z
      .array(
        z
          .object({
            match: z.string().min(1),
            provider: z.string().min(1),
            model: z.string().min(1).optional(),
            timeouts: timeoutsSchema.optional(),
          })
          .strict(),
      )
      .default([]),
    models: z
      .array(z.object({ id: z.string().min(1), provider: z.string().min(1).optional() }).strict())
      .default([]),
  })
  .strict();

/** The parsed routes YAML: extra providers, ordered routing rules and the advertised model catalogue. */
export type RoutesFile = z.infer<typeof routesFileSchema>;

/** Per-route overrides of the upstream timeouts. */
export type TimeoutOverrides = z.infer<typeof timeoutsSchema>;

const EMPTY_ROUTES: RoutesFile = { providers: {}, routes: [], models: [] };

/**
 * Reads and validates the routes YAML. `${VAR}` is replaced from `env` (a missing variable fails).
 * A missing file is an empty configuration; an invalid one fails boot naming the path of the bad key.
 */
export function loadRoutesFile(path: string, env: Env): RoutesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_ROUTES;
    throw error;
  }
  return parseRoutesYaml(text, env, path);
}

/** Parses routes YAML text (see {@link loadRoutesFile}). */
export function parseRoutesYaml(text: string, env: Env, source = 'routes'): RoutesFile {
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (error) {
    throw new InvalidConfigException(source, [
      `not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
    ]);
  }
  // A section whose entries are all commented out parses as null: treat it as absent.
  if (isRecord(document)) {
    document = Object.fromEntries(Object.entries(document).filter(([, v]) => v !== null));
  }
  const raw = interpolateEnv(document, env, source);
  const result = routesFileSchema.safeParse(raw);
  if (!result.success) {
    throw new InvalidConfigException(
      source,
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
