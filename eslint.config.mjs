// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/**
 * Dependency direction between libraries (DESIGN.md §2): gateway -> control-plane -> {policy, upstream, events} -> llm.
 * Each entry lists the aliases a library must NOT import. Deep imports into another lib's src are always refused.
 */
const forbidden = {
  'libs/llm/**': [
    '@warden/upstream',
    '@warden/control-plane',
    '@warden/observability',
    '@warden/mock-llm',
    '@warden/policy',
    '@warden/events',
    '@warden/config',
    '@warden/metrics',
  ],
  'libs/config/**': [
    '@warden/upstream',
    '@warden/control-plane',
    '@warden/policy',
    '@warden/events',
    '@warden/llm',
    '@warden/metrics',
  ],
  'libs/policy/**': [
    '@warden/upstream',
    '@warden/control-plane',
    '@warden/events',
    '@warden/observability',
    '@warden/metrics',
  ],
  'libs/events/**': [
    '@warden/upstream',
    '@warden/control-plane',
    '@warden/policy',
    '@warden/mock-llm',
    '@warden/metrics',
  ],
  'libs/mock-llm/**': [
    '@warden/upstream',
    '@warden/control-plane',
    '@warden/observability',
    '@warden/metrics',
  ],
  'libs/observability/**': [
    '@warden/upstream',
    '@warden/control-plane',
    '@warden/mock-llm',
    '@warden/metrics',
  ],
  'libs/upstream/**': [
    '@warden/control-plane',
    '@warden/mock-llm',
    '@warden/policy',
    '@warden/events',
    '@warden/metrics',
  ],
  // The pipeline reports to a CallObserver port it owns; the metrics lib implements it (never the reverse).
  'libs/control-plane/**': ['@warden/mock-llm', '@warden/metrics'],
  // Metrics read the pipeline, policies and events; they never reach upstreams or the mock themselves.
  'libs/metrics/**': ['@warden/mock-llm', '@warden/upstream'],
};

const deepImport = { group: ['@warden/*/*'], message: 'Import a library through its public index only.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'apps/gateway/ui/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [deepImport] }],
    },
  },
  ...Object.entries(forbidden).map(([files, names]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [deepImport],
          paths: names.map((name) => ({
            name,
            message: 'This import points against the dependency direction.',
          })),
        },
      ],
    },
  })),
  {
    files: ['libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The policy runtime reads optional hooks off a policy and always invokes them with `hook.call(policy, ...)`.
    files: ['libs/policy/src/runtime/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  { files: ['**/*.mjs', '**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  prettier,
);
