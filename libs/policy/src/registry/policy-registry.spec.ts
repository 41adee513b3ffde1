import { z } from 'zod';
import type { Policy } from '../core/policy';
import { PolicyConfigException } from './policy-config.exception';
import { PolicyRegistry } from './policy-registry';
import { definePolicyType, type PolicyDeps } from './policy-type';

const created: Array<{ options: unknown; deps: PolicyDeps }> = [];

const bannerType = definePolicyType({
  name: 'banner',
  description: 'Adds a banner.',
  options: z
    .object({
      text: z.string().min(1),
      limits: z.object({ max: z.number().int().positive() }).strict().default({ max: 3 }),
    })
    .strict(),
  create: (options, deps): Policy => {
    created.push({ options, deps });
    return { name: deps.name, onTextComplete: () => options.text };
  },
});

const quietType = definePolicyType({
  name: 'quiet',
  description: 'Does nothing.',
  options: z.object({}).strict(),
  create: (_options, { name }): Policy => ({ name }),
});

const brokenType = definePolicyType({
  name: 'broken',
  description: 'Cannot be built.',
  options: z.object({}).strict(),
  create: (): Policy => {
    throw new Error('no backend configured');
  },
});

function registry(): PolicyRegistry {
  const r = new PolicyRegistry();
  r.register(bannerType);
  r.register(quietType);
  r.register(brokenType);
  return r;
}

/** The problems of the PolicyConfigException `build` throws. */
function problemsOf(config: unknown, source = 'policy.yaml'): string[] {
  try {
    registry().build(config, source);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyConfigException);
    const exception = error as PolicyConfigException;
    expect(exception.source).toBe(source);
    expect(exception.message).toBe(
      `Invalid policy configuration (${source}): ${exception.problems.join('; ')}`,
    );
    return exception.problems;
  }
  throw new Error('expected a PolicyConfigException');
}

describe('PolicyRegistry', () => {
  beforeEach(() => {
    created.length = 0;
  });

  it('refuses a type registered twice', () => {
    const r = registry();
    expect(() => r.register(quietType)).toThrow('Policy type quiet is registered twice');
    expect(r.has('quiet')).toBe(true);
    expect(r.has('loud')).toBe(false);
  });

  it('builds the policies in order, with parsed options (defaults applied) and their instance names', () => {
    const policies = registry().build(
      {
        policies: [
          { type: 'banner', options: { text: 'hi' } },
          { type: 'quiet' },
          { type: 'banner', name: 'second-banner', options: { text: 'yo', limits: { max: 9 } } },
        ],
      },
      'policy.yaml',
    );
    expect(policies.map((p) => p.name)).toEqual(['banner', 'quiet', 'second-banner']);
    expect(created).toEqual([
      { options: { text: 'hi', limits: { max: 3 } }, deps: { name: 'banner' } },
      { options: { text: 'yo', limits: { max: 9 } }, deps: { name: 'second-banner' } },
    ]);
  });

  it('freezes every instance', () => {
    const [policy] = registry().build({ policies: [{ type: 'banner', options: { text: 'hi' } }] }, 'x');
    expect(Object.isFrozen(policy)).toBe(true);
    expect(() => {
      (policy as { name: string }).name = 'other';
    }).toThrow(TypeError);
  });

  it('builds nothing from an empty or policy-less configuration', () => {
    expect(registry().build({}, 'x')).toEqual([]);
    expect(registry().build({ policies: [] }, 'x')).toEqual([]);
  });

  it('collects every problem at once, naming the entry, its type and the option path', () => {
    const problems = problemsOf({
      policies: [
        { type: 'nope' },
        { type: 'banner', options: { text: '', limits: { max: 1.5 } } },
        { type: 'quiet', options: { loud: true } },
        { type: 'broken' },
        { type: 'banner', name: 'quiet', options: { text: 'ok' } },
      ],
    });
    expect(problems).toEqual([
      'policies.0 (nope): unknown policy type; known types: banner, quiet, broken',
      expect.stringMatching(/^policies\.1 \(banner\): option text: /),
      expect.stringMatching(/^policies\.1 \(banner\): option limits\.max: /),
      expect.stringMatching(/^policies\.2 \(quiet\): option \(options\): .*loud/),
      'policies.3 (broken): no backend configured',
      'policies.4 (banner): duplicate policy name quiet (set a distinct "name")',
    ]);
  });

  it('rejects duplicate instance names, including a name equal to another entry’s default', () => {
    expect(problemsOf({ policies: [{ type: 'quiet' }, { type: 'quiet' }] })).toEqual([
      'policies.1 (quiet): duplicate policy name quiet (set a distinct "name")',
    ]);
    expect(
      registry().build({ policies: [{ type: 'quiet' }, { type: 'quiet', name: 'quiet-2' }] }, 'x'),
    ).toHaveLength(2);
  });

  it('names the path of a malformed configuration', () => {
    expect(problemsOf('policies')).toEqual([expect.stringMatching(/^\(root\): /)]);
    expect(problemsOf({ policies: [{ type: 'quiet', extra: 1 }] })).toEqual([
      expect.stringMatching(/^policies\.0: .*extra/),
    ]);
    expect(problemsOf({ policies: [{ type: 'quiet', name: 'has space' }] })).toEqual([
      expect.stringMatching(/^policies\.0\.name: /),
    ]);
    expect(problemsOf({ policies: [{ type: '' }] })).toEqual([expect.stringMatching(/^policies\.0\.type: /)]);
    expect(problemsOf({ chains: [] })).toEqual([expect.stringMatching(/^\(root\): .*chains/)]);
  });

  it('lists every type with its description and the JSON schema of its options (input side)', () => {
    const types = registry().list();
    expect(types.map((t) => [t.name, t.description])).toEqual([
      ['banner', 'Adds a banner.'],
      ['quiet', 'Does nothing.'],
      ['broken', 'Cannot be built.'],
    ]);
    expect(types[0]?.optionsSchema).toMatchObject({
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1 },
        limits: { type: 'object', default: { max: 3 }, properties: { max: { type: 'integer' } } },
      },
      required: ['text'],
      additionalProperties: false,
    });
    expect(JSON.parse(JSON.stringify(types))).toEqual(types);
  });
});
