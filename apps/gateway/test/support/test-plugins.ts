import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { stringify } from 'yaml';
import { join } from 'node:path';

/** Directory of the test-only policy plugins (see fixtures/policy-plugins). */
export const TEST_PLUGIN_DIR = join(__dirname, '..', 'fixtures', 'policy-plugins');

/** Writes a policy chain YAML to a temporary file and returns its path. */
export function writePolicyConfig(policies: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-policy-'));
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, stringify({ policies }));
  return path;
}
