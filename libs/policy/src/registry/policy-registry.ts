import { z } from 'zod';
import type { Policy } from '../core/policy';
import type { PolicyType } from './policy-type';
import { PolicyConfigException } from './policy-config.exception';

/** One entry of a chain configuration (`policies:` in the YAML). */
export const policyEntrySchema = z
  .object({
    type: z.string().min(1),
    /** Instance name, unique in the chain; defaults to the type. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/i)
      .optional(),
    options: z.unknown().optional(),
  })
  .strict();

/** A chain configuration: the `policies` list in the order they apply. */
export const chainConfigSchema = z.object({ policies: z.array(policyEntrySchema).default([]) }).strict();

/** A validated chain configuration. */
export type ChainConfig = z.infer<typeof chainConfigSchema>;

/** What the admin API shows of a type. */
export interface PolicyTypeInfo {
  name: string;
  description: string;
  optionsSchema: unknown;
}

/**
 * The registry of policy types by stable name. Instances are only ever built from registered types with validated
 * options: nothing is imported from a name found in configuration or a request.
 */
export class PolicyRegistry {
  private readonly types = new Map<string, PolicyType>();

  register(type: PolicyType): void {
    if (this.types.has(type.name)) throw new Error(`Policy type ${type.name} is registered twice`);
    this.types.set(type.name, type);
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  list(): PolicyTypeInfo[] {
    return [...this.types.values()].map((t) => ({
      name: t.name,
      description: t.description,
      optionsSchema: z.toJSONSchema(t.options, { unrepresentable: 'any', io: 'input' }),
    }));
  }

  /**
   * Builds the policies of a chain configuration. Every problem is collected and reported at once, naming the
   * policy (position, type) and the option at fault.
   */
  build(config: unknown, source: string): Policy[] {
    const parsed = chainConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new PolicyConfigException(
        source,
        parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      );
    }
    const problems: string[] = [];
    const policies: Policy[] = [];
    const names = new Set<string>();
    for (const [i, entry] of parsed.data.policies.entries()) {
      const label = `policies.${i} (${entry.type})`;
      const type = this.types.get(entry.type);
      if (type === undefined) {
        problems.push(`${label}: unknown policy type; known types: ${[...this.types.keys()].join(', ')}`);
        continue;
      }
      const name = entry.name ?? entry.type;
      if (names.has(name)) problems.push(`${label}: duplicate policy name ${name} (set a distinct "name")`);
      names.add(name);
      const options = type.options.safeParse(entry.options ?? {});
      if (!options.success) {
        for (const issue of options.error.issues) {
          problems.push(`${label}: option ${issue.path.join('.') || '(options)'}: ${issue.message}`);
        }
        continue;
      }
      try {
        policies.push(Object.freeze(type.create(options.data, { name })));
      } catch (error) {
        problems.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (problems.length > 0) throw new PolicyConfigException(source, problems);
    return policies;
  }
}
