import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_NAMESPACES } from '../app.module';
import { CONFIG_DOCS, CONFIG_GROUPS } from './config-groups';
import { renderConfigTable, renderEnvExample } from './env-example';

const root = join(__dirname, '..', '..', '..', '..');

describe('configuration documentation', () => {
  it('documents every namespace the app loads', () => {
    expect(CONFIG_GROUPS.map((g) => g.config)).toEqual([...CONFIG_NAMESPACES]);
  });

  it('.env.example is generated from the schemas (run `npm run env:docs` after changing a setting)', () => {
    expect(readFileSync(join(root, '.env.example'), 'utf8')).toBe(renderEnvExample(CONFIG_DOCS));
  });

  it('the README configuration table lists every variable', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(renderConfigTable(CONFIG_DOCS));
  });
});
