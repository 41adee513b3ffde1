import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { Policy } from './core/policy';
import { PolicyEngine, type ActiveChain } from './policy-engine';
import { PolicyConfigException } from './registry/policy-config.exception';
import { PolicyRegistry } from './registry/policy-registry';
import { definePolicyType } from './registry/policy-type';
import { callInfo as anyCallInfo } from './testing/policy-test-kit';

const MAX_BUFFER = 4096;

/** The calls of these tests are not streamed. */
const callInfo = (): ReturnType<typeof anyCallInfo> => anyCallInfo({ stream: false });

/** `tag`: answers every request with its `label` (so a test can see which options a chain was built with). */
const tagType = definePolicyType({
  name: 'tag',
  description: 'Answers with its label.',
  options: z.object({ label: z.string().min(1) }).strict(),
  create: ({ label }, { name }): Policy => ({
    name,
    onRequest: () => ({ action: 'respond', text: label }),
  }),
});

function registry(): PolicyRegistry {
  const r = new PolicyRegistry();
  r.register(tagType);
  return r;
}

const tags = (...labels: string[]): unknown => ({
  policies: labels.map((label, i) => ({ type: 'tag', name: `tag-${i}`, options: { label } })),
});

/** What the first policy of the engine's current chain answers. */
async function answer(engine: PolicyEngine): Promise<unknown> {
  return engine
    .current()
    .begin(callInfo(), () => undefined)
    .onRequest({ format: 'anthropic', body: { messages: [] } });
}

function engineOf(config: unknown, env: Record<string, string | undefined> = {}): PolicyEngine {
  return new PolicyEngine(registry(), env, MAX_BUFFER, config, 'policy.yaml');
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('PolicyEngine', () => {
  it('starts at version 1 with the initial chain', async () => {
    const engine = engineOf(tags('one'));
    expect(engine.describe()).toMatchObject({
      config: tags('one'),
      policies: [{ name: 'tag-0' }],
      version: 1,
    });
    expect(Number.isNaN(Date.parse(engine.describe().updatedAt))).toBe(false);
    expect(await answer(engine)).toEqual({ action: 'respond', text: 'one', policy: 'tag-0' });
  });

  it('refuses an invalid initial configuration', () => {
    expect(() => engineOf(tags(''))).toThrow(PolicyConfigException);
  });

  it('swaps in a valid configuration: new chain, version + 1, listeners told; a chain already taken is kept', async () => {
    const engine = engineOf(tags('one'));
    const before = engine.current();
    const seen: ActiveChain[] = [];
    engine.onSwap((active) => seen.push(active));
    const active = engine.swap(tags('two', 'three'), 'PUT /api/policy');
    expect(active).toMatchObject({ version: 2, policies: [{ name: 'tag-0' }, { name: 'tag-1' }] });
    expect(engine.describe()).toBe(active);
    expect(seen).toEqual([active]);
    expect(engine.current()).not.toBe(before);
    expect(await answer(engine)).toMatchObject({ text: 'two' });
    expect(before.policies.map((p) => p.name)).toEqual(['tag-0']);
    expect(engine.swap(tags(), 'again').version).toBe(3);
    expect(engine.current().policies).toEqual([]);
  });

  it('validates before swapping: an invalid configuration keeps the old chain and version, and tells no one', async () => {
    const engine = engineOf(tags('one'));
    const chain = engine.current();
    const described = engine.describe();
    const listener = jest.fn();
    engine.onSwap(listener);
    const error = errorOf(() => engine.swap(tags('ok', ''), 'PUT /api/policy'));
    expect(error).toBeInstanceOf(PolicyConfigException);
    expect(error).toMatchObject({ source: 'PUT /api/policy' });
    expect((error as PolicyConfigException).problems).toEqual([
      expect.stringMatching(/^policies\.1 \(tag\): option label:/),
    ]);
    expect(engine.current()).toBe(chain);
    expect(engine.describe()).toBe(described);
    expect(listener).not.toHaveBeenCalled();
    expect(await answer(engine)).toMatchObject({ text: 'one' });
  });

  it('stops telling a listener once it unsubscribes', () => {
    const engine = engineOf(tags());
    const listener = jest.fn();
    const unsubscribe = engine.onSwap(listener);
    engine.swap(tags('a'), 'x');
    unsubscribe();
    engine.swap(tags('b'), 'x');
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('interpolates ${VAR} from the env it was given, and describes the raw configuration (no secrets)', async () => {
    const engine = engineOf(
      { policies: [{ type: 'tag', options: { label: 'key=${SECRET}!' } }] },
      { SECRET: 's3cr3t' },
    );
    expect(await answer(engine)).toMatchObject({ text: 'key=s3cr3t!' });
    expect(JSON.stringify(engine.describe())).not.toContain('s3cr3t');
    expect(engine.describe().config).toEqual({
      policies: [{ type: 'tag', options: { label: 'key=${SECRET}!' } }],
    });
  });

  it('fails on a variable the env does not set, naming it, even when the process has it', async () => {
    expect(process.env.PATH).toBeDefined();
    const engine = engineOf(tags('one'), { SECRET: 'x' });
    const error = errorOf(() =>
      engine.swap({ policies: [{ type: 'tag', options: { label: '${PATH}' } }] }, 'PUT /api/policy'),
    );
    expect(String(error)).toContain('${PATH} is not set');
    expect(String(error)).toContain('PUT /api/policy');
    expect(engine.describe().version).toBe(1);
    expect(await answer(engine)).toMatchObject({ text: 'one' });
    expect(() => engineOf({ policies: [{ type: 'tag', options: { label: '${MISSING_VAR}' } }] })).toThrow(
      '${MISSING_VAR} is not set',
    );
  });

  it('shares its timings with every chain it builds', async () => {
    const engine = engineOf(tags('one'));
    engine.swap(tags('two'), 'x');
    await answer(engine);
    expect(engine.timings.snapshot().map((h) => [h.policy, h.count])).toEqual([['tag-0', 1]]);
  });

  describe('readConfigFile', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'warden-policy-'));
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('parses the YAML, leaving ${VAR} for the engine', async () => {
      const path = join(dir, 'policy.yaml');
      writeFileSync(path, 'policies:\n  - type: tag\n    options:\n      label: ${LABEL}\n');
      const config = PolicyEngine.readConfigFile(path);
      expect(config).toEqual({ policies: [{ type: 'tag', options: { label: '${LABEL}' } }] });
      expect(await answer(engineOf(config, { LABEL: 'from env' }))).toMatchObject({ text: 'from env' });
    });

    it('refuses a missing file the operator named, naming it', () => {
      const path = join(dir, 'polcy.yaml');
      const error = errorOf(() => PolicyEngine.readConfigFile(path, { required: true }));
      expect(error).toBeInstanceOf(PolicyConfigException);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toContain('not found');
    });

    it('reads a missing or empty file as an empty chain', () => {
      expect(PolicyEngine.readConfigFile(join(dir, 'absent.yaml'))).toEqual({ policies: [] });
      const empty = join(dir, 'empty.yaml');
      writeFileSync(empty, '# nothing yet\n');
      expect(PolicyEngine.readConfigFile(empty)).toEqual({ policies: [] });
    });

    it('refuses invalid YAML with a PolicyConfigException naming the file', () => {
      const path = join(dir, 'broken.yaml');
      writeFileSync(path, 'policies: [\n  - type: tag\n');
      const error = errorOf(() => PolicyEngine.readConfigFile(path));
      expect(error).toBeInstanceOf(PolicyConfigException);
      expect(error).toMatchObject({ source: path });
      expect((error as Error).message).toContain(path);
      expect((error as PolicyConfigException).problems).toEqual([expect.stringMatching(/^not valid YAML: /)]);
    });

    it('rethrows read errors other than a missing file', () => {
      const sub = join(dir, 'a-directory.yaml');
      mkdirSync(sub);
      expect(errorOf(() => PolicyEngine.readConfigFile(sub))).toMatchObject({ code: 'EISDIR' });
    });
  });
});
