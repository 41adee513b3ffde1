import type { EnvVarDoc } from '@warden/config';

/** Production warnings at the top of `.env.example`. */
const HEADER = [
  '# Warden configuration. Copy to .env (read at startup) or set in the environment.',
  '# Generated from the config schemas (apps/gateway/src/config/env-example.ts); a test keeps it in sync.',
  '#',
  '# PRODUCTION: set NODE_ENV=production and change every key below. Set PROXY_API_KEYS (the gateway refuses',
  '# to start without it in production) and keep HOST=127.0.0.1 unless a TLS-terminating load balancer sits',
  '# in front. Never commit a filled-in .env.',
];

/** Renders `.env.example` from the variables of every config namespace (defaults commented in). */
export function renderEnvExample(groups: ReadonlyArray<{ title: string; variables: EnvVarDoc[] }>): string {
  const lines = [...HEADER];
  for (const group of groups) {
    lines.push('', `# --- ${group.title} ---`);
    for (const v of group.variables) {
      lines.push(`# ${v.description}`);
      lines.push(v.default === undefined ? `# ${v.name}=` : `# ${v.name}=${v.default}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Renders the README's configuration table rows. */
export function renderConfigTable(groups: ReadonlyArray<{ title: string; variables: EnvVarDoc[] }>): string {
  const rows = ['| Variable | Default | Description |', '|---|---|---|'];
  for (const group of groups) {
    for (const v of group.variables) {
      rows.push(
        `| \`${v.name}\` | ${v.default === undefined ? '' : `\`${v.default}\``} | ${v.description} |`,
      );
    }
  }
  return rows.join('\n');
}
