import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigException } from '@warden/config';
import { loadRoutesFile, parseRoutesYaml } from './routes-file';

const EMPTY = { providers: {}, routes: [], models: [] };

/** The problems of the {@link InvalidConfigException} `parse` throws (fails the test if it throws nothing else). */
function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof InvalidConfigException) return error.problems;
    throw error;
  }
  throw new Error('expected an InvalidConfigException');
}

describe('parseRoutesYaml', () => {
  it.each(['', '\n', '# only a comment\n', 'providers: {}\nroutes: []\nmodels: []\n'])(
    'reads %j as an empty configuration',
    (text) => {
      expect(parseRoutesYaml(text, {})).toEqual(EMPTY);
    },
  );

  it('reads providers (trailing slashes removed), routes with overrides, and models', () => {
    const text = [
      'providers:',
      '  local-vllm:',
      '    openaiBaseUrl: http://127.0.0.1:8001/v1/',
      '    apiKey: k',
      '    acceptsAnyCredential: true',
      '  azure:',
      '    openaiBaseUrl: https://res.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21',
      '    credentialHeader: api-key',
      '  both.api:',
      '    openaiBaseUrl: https://both.example/v1',
      '    anthropicBaseUrl: https://both.example//',
      'routes:',
      '  - match: "llama-*"',
      '    provider: local-vllm',
      '    model: llama-3.1-70b',
      '    timeouts: { firstTokenMs: 600000 }',
      'models:',
      '  - { id: llama-3, provider: local-vllm }',
      '  - { id: gpt-4o }',
    ].join('\n');
    expect(parseRoutesYaml(text, {})).toEqual({
      providers: {
        'local-vllm': { openaiBaseUrl: 'http://127.0.0.1:8001/v1', apiKey: 'k', acceptsAnyCredential: true },
        azure: {
          openaiBaseUrl: 'https://res.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21',
          credentialHeader: 'api-key',
        },
        'both.api': { openaiBaseUrl: 'https://both.example/v1', anthropicBaseUrl: 'https://both.example' },
      },
      routes: [
        {
          match: 'llama-*',
          provider: 'local-vllm',
          model: 'llama-3.1-70b',
          timeouts: { firstTokenMs: 600000 },
        },
      ],
      models: [{ id: 'llama-3', provider: 'local-vllm' }, { id: 'gpt-4o' }],
    });
  });

  describe('${VAR} interpolation', () => {
    it('replaces variables anywhere in string values, before URLs are validated', () => {
      const text = [
        'providers:',
        '  local:',
        '    openaiBaseUrl: http://${VLLM_HOST}:${VLLM_PORT}/v1',
        '    apiKey: ${VLLM_KEY}',
        'routes:',
        '  - { match: "${PREFIX}-*", provider: local }',
      ].join('\n');
      const file = parseRoutesYaml(text, {
        VLLM_HOST: '10.0.0.2',
        VLLM_PORT: '8001',
        VLLM_KEY: 'sk-local',
        PREFIX: 'llama',
      });
      expect(file.providers.local).toEqual({ openaiBaseUrl: 'http://10.0.0.2:8001/v1', apiKey: 'sk-local' });
      expect(file.routes[0]?.match).toBe('llama-*');
    });

    it('ignores variables in comments', () => {
      const text = '# apiKey: ${NOT_SET}\nmodels:\n  - { id: gpt-4o } # ${ALSO_NOT_SET}\n';
      expect(parseRoutesYaml(text, {}).models).toEqual([{ id: 'gpt-4o' }]);
    });

    it('inserts values literally: no second pass, no replacement patterns', () => {
      const text = 'models:\n  - { id: "${A}", provider: "${B}" }\n';
      expect(parseRoutesYaml(text, { A: '${B}', B: "p$&$'$1" }).models).toEqual([
        { id: '${B}', provider: "p$&$'$1" },
      ]);
    });

    it('leaves $VAR without braces alone', () => {
      expect(parseRoutesYaml('models: [{ id: $HOME }]', {}).models).toEqual([{ id: '$HOME' }]);
    });

    it('fails naming a missing variable and the source', () => {
      let thrown: unknown;
      try {
        parseRoutesYaml(
          'providers:\n  x: { openaiBaseUrl: "http://h/v1", apiKey: "${X_API_KEY}" }\n',
          {},
          'r.yaml',
        );
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidConfigException);
      expect(thrown).toMatchObject({ namespace: 'r.yaml', problems: ['${X_API_KEY} is not set'] });
    });
  });

  describe('validation', () => {
    it.each([
      ['routes: [{ match: "a" }]', 'routes.0.provider: '],
      ['routes: [{ match: "", provider: p }]', 'routes.0.match: '],
      ['routes: [{ match: a, provider: p }, { match: b, provider: p, model: "" }]', 'routes.1.model: '],
      ['routes: [{ match: a, provider: p, timeouts: { idleMs: -1 } }]', 'routes.0.timeouts.idleMs: '],
      ['routes: [{ match: a, provider: p, timeouts: { totalMs: 1.5 } }]', 'routes.0.timeouts.totalMs: '],
      ['providers: { local: { openaiBaseUrl: "ftp://h/v1" } }', 'providers.local.openaiBaseUrl: '],
      ['providers: { local: { anthropicBaseUrl: "not a url" } }', 'providers.local.anthropicBaseUrl: '],
      [
        'providers: { local: { apiKey: k } }',
        'providers.local: a provider needs openaiBaseUrl or anthropicBaseUrl',
      ],
      ['providers: { "bad name": { openaiBaseUrl: "http://h" } }', 'providers.bad name: '],
      [
        'providers: { azure: { openaiBaseUrl: "http://h", credentialHeader: x-goog-api-key } }',
        'providers.azure.credentialHeader: ',
      ],
      ['models: [{ id: "" }]', 'models.0.id: '],
      ['- a list', '(root): '],
    ])('rejects %s naming the path', (text, expected) => {
      const problems = problemsOf(() => parseRoutesYaml(text, {}));
      expect(problems).toHaveLength(1);
      expect(problems[0]?.startsWith(expected)).toBe(true);
    });

    it.each([
      ['extra: 1', '(root): '],
      ['providers: { local: { openaiBaseUrl: "http://h", baseUrl: "http://h" } }', 'providers.local: '],
      ['routes: [{ match: a, provider: p, rewrite: b }]', 'routes.0: '],
      ['routes: [{ match: a, provider: p, timeouts: { readMs: 5 } }]', 'routes.0.timeouts: '],
      ['models: [{ id: a, owner: b }]', 'models.0: '],
    ])('rejects the unknown key in %s', (text, path) => {
      const problems = problemsOf(() => parseRoutesYaml(text, {}));
      expect(problems).toEqual([expect.stringMatching(/Unrecognized key/)]);
      expect(problems[0]?.startsWith(path)).toBe(true);
    });

    it('reports every problem at once, with the source as namespace', () => {
      let thrown: unknown;
      try {
        parseRoutesYaml('routes: [{ match: a }]\nmodels: [{}]\n', {}, 'custom.yaml');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidConfigException);
      expect(thrown).toMatchObject({ namespace: 'custom.yaml' });
      const message = (thrown as Error).message;
      expect(message).toContain('custom.yaml');
      expect(message).toContain('routes.0.provider');
      expect(message).toContain('models.0.id');
    });
  });
});

describe('loadRoutesFile', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'warden-routes-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('treats a missing file as an empty configuration', () => {
    expect(loadRoutesFile(join(dir, 'missing.yaml'), {})).toEqual(EMPTY);
  });

  it('rethrows read errors other than a missing file', () => {
    expect(() => loadRoutesFile(dir, {})).toThrow(/EISDIR/);
  });

  it('reads and interpolates a file, naming its path when it is invalid', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'models:\n  - { id: "${MODEL}" }\n');
    expect(loadRoutesFile(good, { MODEL: 'gpt-4o' }).models).toEqual([{ id: 'gpt-4o' }]);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'routes: [{ match: a }]\n');
    expect(() => loadRoutesFile(bad, {})).toThrow(InvalidConfigException);
    expect(() => loadRoutesFile(bad, {})).toThrow(bad);
  });

  it('parses the shipped config/routes.yaml with an empty environment', () => {
    const shipped = join(__dirname, '..', '..', '..', '..', 'config', 'routes.yaml');
    const file = loadRoutesFile(shipped, {});
    expect(file.providers).toEqual({});
    expect(file.routes).toEqual([]);
    expect(file.models.length).toBeGreaterThan(0);
    for (const model of file.models) expect(['anthropic', 'openai']).toContain(model.provider);
    expect(file.models.map((m) => m.id)).toEqual(expect.arrayContaining(['claude-sonnet-4-5', 'gpt-4o']));
  });
});
