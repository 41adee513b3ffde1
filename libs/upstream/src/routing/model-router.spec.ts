import fc from 'fast-check';
import type { UpstreamTimeouts } from '../upstream.config';
import { globToRegExp, MOCK_MODELS, MOCK_PROVIDER, ModelRouter } from './model-router';
import type { Provider } from './provider';
import type { RoutesFile } from './routes-file';

const DEFAULTS: UpstreamTimeouts = { connectMs: 1_000, firstTokenMs: 2_000, idleMs: 3_000, totalMs: 4_000 };

const anthropic: Provider = { name: 'anthropic', baseUrls: { anthropic: 'https://api.anthropic.com' } };
const openai: Provider = { name: 'openai', baseUrls: { openai: 'https://api.openai.com/v1' } };
const mock: Provider = {
  name: MOCK_PROVIDER,
  baseUrls: { openai: 'http://127.0.0.1:1/v1', anthropic: 'http://127.0.0.1:1' },
};
const local: Provider = { name: 'local', baseUrls: { openai: 'http://127.0.0.1:8001/v1' } };

function routesFile(partial: Partial<RoutesFile> = {}): RoutesFile {
  return { providers: {}, routes: [], models: [], ...partial };
}

function router(file: RoutesFile = routesFile(), ...providers: Provider[]): ModelRouter {
  const r = new ModelRouter(DEFAULTS, file);
  for (const p of providers) r.register(p);
  return r;
}

describe('ModelRouter', () => {
  describe('built-in rules', () => {
    it.each([
      ['claude-sonnet-4-5', 'anthropic'],
      ['claude', 'anthropic'],
      ['gpt-4o', 'openai'],
      ['gpt-4.1-mini', 'openai'],
      ['o1', 'openai'],
      ['o1-preview', 'openai'],
      ['o3-mini', 'openai'],
      ['o4-mini', 'openai'],
      ['chatgpt-4o-latest', 'openai'],
      ['mock-small', 'mock'],
    ])('routes %s to %s with the model name unchanged and default timeouts', (model, provider) => {
      const route = router(routesFile(), anthropic, openai, mock).resolve(model);
      expect(route?.provider.name).toBe(provider);
      expect(route?.upstreamModel).toBe(model);
      expect(route?.timeouts).toEqual(DEFAULTS);
    });

    it.each(['gpt4', 'o2-mini', 'chatgpt', 'llama-3', 'xclaude', 'my-gpt-4o', ''])(
      'serves nothing for %j',
      (model) => {
        expect(router(routesFile(), anthropic, openai, mock).resolve(model)).toBeUndefined();
      },
    );

    it('routes mock-* only once the mock provider is registered', () => {
      const r = router(routesFile(), anthropic, openai);
      expect(r.resolve('mock-small')).toBeUndefined();
      r.register(mock);
      expect(r.resolve('mock-small')?.provider).toBe(mock);
    });

    it('skips a rule whose provider is not registered', () => {
      expect(router(routesFile(), openai).resolve('claude-sonnet-4-5')).toBeUndefined();
    });
  });

  describe('explicit provider prefix', () => {
    it('wins over the rules and is stripped from the upstream model', () => {
      const r = router(routesFile(), anthropic, openai);
      expect(r.resolve('openai/claude-sonnet-4-5')).toEqual({
        provider: openai,
        upstreamModel: 'claude-sonnet-4-5',
        timeouts: DEFAULTS,
      });
      expect(r.resolve('anthropic/some-private-model')).toMatchObject({
        provider: anthropic,
        upstreamModel: 'some-private-model',
      });
    });

    it('keeps later slashes in the upstream model', () => {
      const r = router(routesFile(), local);
      expect(r.resolve('local/meta/llama-3')?.upstreamModel).toBe('meta/llama-3');
    });

    it('falls through to the rules (with the full name) when the prefix is not a provider', () => {
      const file = routesFile({ routes: [{ match: 'meta/*', provider: 'local' }] });
      expect(router(routesFile(), anthropic, openai).resolve('meta/llama')).toBeUndefined();
      expect(router(file, anthropic, openai, local).resolve('meta/llama')).toMatchObject({
        provider: local,
        upstreamModel: 'meta/llama',
      });
    });

    it('does not treat a leading slash as an empty prefix', () => {
      expect(router(routesFile(), openai).resolve('/gpt-4o')).toBeUndefined();
    });

    it("uses the timeouts of the provider's matching rule, not its model rewrite", () => {
      const file = routesFile({
        routes: [{ match: 'fast', provider: 'openai', model: 'gpt-4o-mini', timeouts: { idleMs: 99 } }],
      });
      const r = router(file, openai, anthropic);
      expect(r.resolve('openai/fast')).toEqual({
        provider: openai,
        upstreamModel: 'fast',
        timeouts: { ...DEFAULTS, idleMs: 99 },
      });
      // A rule for another provider does not lend its timeouts.
      expect(r.resolve('anthropic/fast')?.timeouts).toEqual(DEFAULTS);
    });
  });

  describe('routes file rules', () => {
    it('are checked before the built-in rules, in order', () => {
      const file = routesFile({
        routes: [
          { match: 'gpt-4o', provider: 'local' },
          { match: 'gpt-4o', provider: 'anthropic' },
          { match: 'llama-?', provider: 'local' },
        ],
      });
      const r = router(file, openai, anthropic, local);
      expect(r.resolve('gpt-4o')?.provider).toBe(local);
      expect(r.resolve('gpt-4o-mini')?.provider).toBe(openai);
      expect(r.resolve('llama-3')?.provider).toBe(local);
      expect(r.resolve('llama-31')).toBeUndefined();
    });

    it('fall through to the built-in rules when their provider is not registered', () => {
      const file = routesFile({ routes: [{ match: 'claude*', provider: 'bedrock' }] });
      expect(router(file, anthropic).resolve('claude-haiku-4-5')?.provider).toBe(anthropic);
    });

    it('rewrite the model name sent upstream', () => {
      const file = routesFile({ routes: [{ match: 'fast', provider: 'openai', model: 'gpt-4o-mini' }] });
      expect(router(file, openai).resolve('fast')).toEqual({
        provider: openai,
        upstreamModel: 'gpt-4o-mini',
        timeouts: DEFAULTS,
      });
    });

    it('merge per-route timeout overrides over the defaults without touching them', () => {
      const file = routesFile({
        routes: [
          { match: 'claude-opus-*', provider: 'anthropic', timeouts: { firstTokenMs: 600_000, idleMs: 500 } },
        ],
      });
      const r = router(file, anthropic);
      expect(r.resolve('claude-opus-4-5')?.timeouts).toEqual({
        connectMs: 1_000,
        firstTokenMs: 600_000,
        idleMs: 500,
        totalMs: 4_000,
      });
      expect(r.resolve('claude-sonnet-4-5')?.timeouts).toEqual(DEFAULTS);
      expect(DEFAULTS).toEqual({ connectMs: 1_000, firstTokenMs: 2_000, idleMs: 3_000, totalMs: 4_000 });
    });
  });

  describe('verify', () => {
    it('names every route and model that points at an unregistered provider', () => {
      const file = routesFile({
        routes: [
          { match: 'llama-*', provider: 'local' },
          { match: 'qwen-*', provider: 'vllm' },
        ],
        models: [{ id: 'llama-3', provider: 'local' }, { id: 'grok-2', provider: 'xai' }, { id: 'gpt-4o' }],
      });
      expect(router(file, local).verify()).toEqual([
        'route qwen-*: unknown provider vllm',
        'model grok-2: unknown provider xai',
      ]);
    });

    it('finds nothing once every provider is registered', () => {
      const file = routesFile({
        routes: [{ match: 'llama-*', provider: 'local' }],
        models: [{ id: 'llama-3', provider: 'local' }],
      });
      expect(router(file, local).verify()).toEqual([]);
    });
  });

  describe('models', () => {
    it('lists the file models that resolve, in order, then the mock models', () => {
      const file = routesFile({
        models: [
          { id: 'claude-opus-4-5', provider: 'anthropic' },
          { id: 'gpt-4o' },
          { id: 'llama-3', provider: 'local' },
          { id: 'unroutable' },
        ],
      });
      expect(router(file, anthropic, openai, mock).models()).toEqual([
        { id: 'claude-opus-4-5', provider: 'anthropic' },
        { id: 'gpt-4o', provider: 'openai' },
        ...MOCK_MODELS.map((id) => ({ id, provider: MOCK_PROVIDER })),
      ]);
    });

    it('reports the provider a rule sends the model to', () => {
      const file = routesFile({
        routes: [{ match: 'gpt-4o', provider: 'local' }],
        models: [{ id: 'gpt-4o' }],
      });
      expect(router(file, openai, local).models()).toEqual([{ id: 'gpt-4o', provider: 'local' }]);
    });

    it('has no mock models when the mock is not registered', () => {
      expect(router(routesFile(), anthropic, openai).models()).toEqual([]);
    });
  });

  it('register replaces a provider of the same name', () => {
    const r = router(routesFile(), openai);
    const replacement: Provider = { name: 'openai', baseUrls: { openai: 'http://proxy/v1' } };
    r.register(replacement);
    expect(r.provider('openai')).toBe(replacement);
    expect(r.resolve('gpt-4o')?.provider).toBe(replacement);
  });

  it('speaks tells which formats the route provider has a base URL for', () => {
    const route = router(routesFile(), openai).resolve('gpt-4o');
    if (route === undefined) throw new Error('expected a route');
    expect(ModelRouter.speaks(route, 'openai')).toBe(true);
    expect(ModelRouter.speaks(route, 'anthropic')).toBe(false);
  });
});

/** Characters that are special in regular expressions (plus a few ordinary ones), but no glob wildcard. */
const literalChar = fc.constantFrom(...'.+^${}()|[]\\/-_:aZ09 é');
const literal = fc.oneof(
  fc.string({ unit: literalChar, maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replace(/[*?]/g, '')),
);
/** Strings without line terminators (model names never hold one). */
const noLineBreaks = (s: string): string => s.replace(/[\n\r\u2028\u2029]/g, '');
const suffix = fc.string({ unit: 'binary', maxLength: 12 }).map(noLineBreaks);

describe('globToRegExp', () => {
  it('matches a glob without wildcards against exactly itself (metacharacters are literal)', () => {
    fc.assert(
      fc.property(literal, literal, (glob, other) => {
        const re = globToRegExp(glob);
        expect(re.test(glob)).toBe(true);
        expect(re.test(other)).toBe(other === glob);
        expect(re.test(`${glob}x`)).toBe(false);
        expect(re.test(`x${glob}`)).toBe(false);
      }),
    );
  });

  it('matches prefix* against every string that starts with the prefix, and nothing else', () => {
    fc.assert(
      fc.property(literal, suffix, literal.map(noLineBreaks), (prefix, rest, other) => {
        const re = globToRegExp(`${prefix}*`);
        expect(re.test(prefix + rest)).toBe(true);
        expect(re.test(other)).toBe(other.startsWith(prefix));
      }),
    );
  });

  it('matches ? against exactly one character', () => {
    const re = globToRegExp('o?-mini');
    expect(re.test('o4-mini')).toBe(true);
    expect(re.test('o-mini')).toBe(false);
    expect(re.test('o45-mini')).toBe(false);
  });
});
