import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The arguments `npm start` gives `node` (runtime flags, then the gateway's entry point), read from package.json:
 * the benchmark and the tests that run the compiled gateway start it exactly as users do.
 */
export function gatewayStartArgs(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, unknown>;
  };
  const start = pkg.scripts?.start;
  const words = typeof start === 'string' ? start.trim().split(/\s+/) : [];
  if (words[0] !== 'node' || words.length < 2)
    throw new Error(
      `package.json scripts.start should be "node [flags] <entry point>", not ${JSON.stringify(start)}`,
    );
  return words.slice(1);
}
