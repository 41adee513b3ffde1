import type { EnvVarDoc } from '@warden/config';

/** Production warnings at the top of `.env.example`. */
const HEADER = [
  '# Warden configuration. Copy to .env (read at startup) or set in the environment.',
  '# Generated from the config schemas (apps/gateway/src/config/env-example.ts); a test keeps it in sync.',
  '#',
  '# PRODUCTION CHECKLIST (see docs/deployment.md and docs/security.md):',
  '# - NODE_ENV=production, and change every key and password: never reuse an example or development value.',
  '# - PROXY_API_KEYS: client keys (the gateway refuses to start without them in production).',
  '# - ADMIN_API_KEY: without it the admin API and UI trust every loopback client, which behind a reverse proxy',
  '#   on the same host means everyone.',
  '# - HOST: keep 127.0.0.1 unless a TLS-terminating load balancer sits in front; then set TRUST_PROXY to it.',
  '# - METRICS_TOKEN, or keep /metrics off public networks; DOCS_ENABLED=false to hide /docs.',
  '# - RATE_LIMIT_RPM / RATE_LIMIT_BURST with REDIS_URL, so limits hold across replicas.',
  '# - Secrets come from the environment or a secret store; never commit a filled-in .env.',
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
        `| \`${v.name}\` | ${v.default === undefined || v.default === '' ? '' : `\`${v.default}\``} | ${v.description} |`,
      );
    }
  }
  return rows.join('\n');
}
