import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_DOCS } from './config-groups';
import { renderConfigTable, renderEnvExample } from './env-example';

const BEGIN = '<!-- config-table:begin -->';
const END = '<!-- config-table:end -->';

/** Regenerates `.env.example` and the README configuration table from the config schemas. */
function main(): void {
  writeFileSync('.env.example', renderEnvExample(CONFIG_DOCS));
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} section`);
  const table = renderConfigTable(CONFIG_DOCS);
  writeFileSync('README.md', `${readme.slice(0, start + BEGIN.length)}\n${table}\n${readme.slice(end)}`);
}

main();
