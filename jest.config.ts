import type { Config } from 'jest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Module name mapper derived from the tsconfig `paths`, so aliases are declared once. */
function aliasesFromTsconfig(): Record<string, string> {
  const tsconfig = JSON.parse(readFileSync(join(__dirname, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  const mapper: Record<string, string> = {};
  for (const [alias, targets] of Object.entries(tsconfig.compilerOptions.paths)) {
    const target = targets[0];
    if (target !== undefined) mapper[`^${alias}$`] = `<rootDir>/${target}`;
  }
  return mapper;
}

const swc: Config['transform'] = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
  // NestJS 12 ships ES modules only; Jest's CommonJS runtime (Node 20) needs them compiled.
  '^.+\\.m?js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
};

/** ESM-only packages in node_modules that must go through the transform. */
const ESM_PACKAGES = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  'peek-readable',
  'uint8array-extras',
  '@tokenizer',
];

const common = {
  rootDir: __dirname,
  transform: swc,
  moduleNameMapper: aliasesFromTsconfig(),
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
};

const config: Config = {
  // Jest reads the test timeout from the global config only (a project's own is ignored): e2e tests boot apps,
  // spawn processes and run real clients, so their default is generous; unit tests finish in milliseconds anyway.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,examples}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/apps/*/test/**/*.e2e-spec.ts'],
    },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/libs/**/*.int-spec.ts'],
    },
  ],
};

export default config;
