// The active policy chain (GET /api/policy).
import { api } from './api.js';
import { h, jsonPre, replace } from './dom.js';
import { fmtDateTime } from './format.js';

export async function renderPolicy(main) {
  const active = await api('/api/policy');
  const policies = Array.isArray(active.policies) ? active.policies : [];
  replace(
    main,
    h('h1', { text: 'Active policy chain' }),
    h('p', { class: 'muted', text: `Version ${active.version} · since ${fmtDateTime(active.updatedAt)}` }),
    policies.length === 0
      ? h('p', { class: 'notice', text: 'No policies: calls pass through unchanged.' })
      : h(
          'ol',
          { class: 'chain', id: 'policy-chain' },
          policies.map((p) => h('li', { text: String(p.name) })),
        ),
    h('h2', { text: 'Configuration' }),
    jsonPre(active.config),
  );
}
