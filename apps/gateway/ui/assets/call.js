// One call: summary, blocked tool calls with the judge's explanation, the exchange, side-by-side original vs
// final for the response and the request, the event timeline, and the raw payloads on demand.
import { api } from './api.js';
import { append, h, jsonPre, replace, seg } from './dom.js';
import { fmtDateTime, fmtMs, fmtTime } from './format.js';
import { renderBlock, renderMessage } from './blocks.js';

const KIND_LABELS = {
  kept: 'kept',
  replaced: 'replaced',
  removed: 'removed',
  added: 'added',
  changed: 'changed',
};

export async function renderCall(main, id) {
  const { call, events, diff, turn } = await api(`/api/calls/${seg(id)}`);
  const blocked = events.filter((e) => e.type.startsWith('policy.') && e.type.endsWith('.blocked'));
  replace(
    main,
    h('h1', {}, 'Call ', h('code', { text: call.id })),
    summary(call),
    blocked.length > 0 ? blockedSection(blocked) : null,
    h('h2', { text: 'Exchange' }),
    h(
      'div',
      { class: 'exchange', id: 'exchange' },
      turn ? turn.user.map((m) => renderMessage(m)) : null,
      turn?.assistant
        ? renderMessage(turn.assistant)
        : h('p', { class: 'muted', text: '(no response recorded)' }),
    ),
    h('h2', { text: 'Response: upstream vs client' }),
    responseDiff(diff.response),
    h('h2', { text: 'Request: received vs forwarded' }),
    requestDiff(diff.request),
    h('h2', { text: 'Events' }),
    timeline(events),
    h('h2', { text: 'Raw payloads' }),
    raw('Original request (as received)', call.originalRequest),
    raw('Final request (as forwarded)', call.finalRequest),
    raw('Original response (from upstream)', call.originalResponse),
    raw('Final response (to the client)', call.finalResponse),
  );
}

function summary(call) {
  const rows = [
    [
      'Status',
      h('span', {
        class: `badge status-${String(call.status).replace(/[^a-z_]/g, '')}`,
        text: `${call.status}${call.httpStatus ? ` (${call.httpStatus})` : ''}`,
      }),
    ],
    ['Model', `${call.model}${call.provider ? ` via ${call.provider}` : ''}`],
    ['Formats', `${call.clientFormat} → ${call.upstreamFormat ?? '—'}${call.stream ? ' · streaming' : ''}`],
    ['Started', fmtDateTime(call.startedAt)],
    [
      'Duration',
      `${fmtMs(call.durationMs)}${call.firstTokenMs !== null ? ` (first token ${fmtMs(call.firstTokenMs)})` : ''}`,
    ],
    [
      'Tokens',
      call.inputTokens === null && call.outputTokens === null
        ? '—'
        : `${call.inputTokens ?? '?'} in / ${call.outputTokens ?? '?'} out`,
    ],
    ['Session', h('a', { href: `/ui/sessions/${seg(call.sessionId)}`, text: call.sessionId })],
    [
      'Policy actions',
      (call.policyActions ?? []).length === 0
        ? '—'
        : call.policyActions.map((a) =>
            h('span', { class: `badge ${String(a).endsWith('.blocked') ? 'alert' : 'policy'}`, text: a }),
          ),
    ],
  ];
  if (call.error) rows.push(['Error', h('span', { class: 'error', text: call.error })]);
  return h(
    'dl',
    { class: 'summary-grid' },
    rows.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]),
  );
}

function blockedSection(events) {
  return h(
    'section',
    { class: 'blocked-calls', id: 'blocked-calls' },
    h('h2', { text: 'Blocked' }),
    events.map((e) => {
      const d = e.data ?? {};
      return h(
        'div',
        { class: 'blocked-call', dataset: { toolCallId: d.toolCallId ?? '' } },
        h(
          'div',
          { class: 'label' },
          h('strong', { text: e.type }),
          d.tool !== undefined ? [' · tool ', h('code', { text: String(d.tool) })] : null,
        ),
        d.explanation !== undefined ? h('p', { class: 'explanation', text: String(d.explanation) }) : null,
        typeof d.probability === 'number'
          ? h('p', {
              class: 'muted',
              text: `probability ${d.probability}${d.threshold !== undefined ? ` (threshold ${d.threshold})` : ''}`,
            })
          : null,
        d.arguments !== undefined
          ? h('pre', {
              class: 'json',
              text: typeof d.arguments === 'string' ? d.arguments : JSON.stringify(d.arguments, null, 2),
            })
          : null,
        d.pattern !== undefined ? h('p', { class: 'muted', text: `pattern ${d.pattern}` }) : null,
      );
    }),
  );
}

/** A two-column table of block changes: original on the left, final on the right. */
function blockTable(rows, left, right) {
  return h(
    'table',
    { class: 'diff' },
    h('thead', {}, h('tr', {}, h('th', { text: '' }), h('th', { text: left }), h('th', { text: right }))),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          { class: `diff-row kind-${row.kind}` },
          h('td', { class: 'kind', text: KIND_LABELS[row.kind] ?? row.kind }),
          h(
            'td',
            { class: 'before' },
            row.kind === 'kept' ? renderBlock(row.after) : row.before ? renderBlock(row.before) : null,
          ),
          h(
            'td',
            { class: 'after' },
            row.after ? renderBlock(row.after) : null,
            row.policy
              ? h(
                  'div',
                  { class: 'policy-note' },
                  h('strong', { text: row.policy.event }),
                  row.policy.explanation !== undefined
                    ? h('span', { class: 'explanation', text: ` ${row.policy.explanation}` })
                    : null,
                  typeof row.policy.probability === 'number'
                    ? h('span', { class: 'muted', text: ` (p=${row.policy.probability})` })
                    : null,
                )
              : null,
          ),
        ),
      ),
    ),
  );
}

function responseDiff(diff) {
  const out = h('div', { class: 'response-diff', id: 'response-diff' });
  if (diff.blocks.length === 0)
    return append(out, [h('p', { class: 'muted', text: 'No response recorded.' })]);
  append(out, [
    h('p', {
      class: diff.changed ? 'notice changed' : 'muted',
      text: diff.changed
        ? 'Policies changed the response.'
        : 'The client got the upstream response unchanged.',
    }),
    blockTable(diff.blocks, 'Upstream (original)', 'Client (final)'),
    diff.changes.length > 0 ? changesTable(diff.changes, diff.truncated) : null,
  ]);
  return out;
}

function requestDiff(diff) {
  const out = h('div', { class: 'request-diff', id: 'request-diff' });
  const note =
    diff.comparedAs === 'anthropic'
      ? ' (compared in the Anthropic format: the request was converted for the upstream)'
      : '';
  if (!diff.changed) return append(out, [h('p', { class: 'muted', text: `Forwarded unchanged${note}.` })]);
  append(out, [
    h('p', {
      class: 'notice changed',
      text: `Policies or conversion changed the request${note}. ${diff.keptMessages} message(s) unchanged.`,
    }),
    diff.system.length > 0
      ? [h('h3', { text: 'System prompt' }), blockTable(diff.system, 'Received', 'Forwarded')]
      : null,
    diff.messages.map((m) => [
      h('h3', {
        text: `Message ${m.afterIndex ?? m.beforeIndex} (${m.role}): ${KIND_LABELS[m.kind] ?? m.kind}`,
      }),
      blockTable(m.blocks, 'Received', 'Forwarded'),
    ]),
    changesTable(diff.changes, diff.truncated),
  ]);
  return out;
}

function changesTable(changes, truncated) {
  const cell = (value) =>
    value === undefined ? h('td', { class: 'muted', text: '—' }) : h('td', {}, jsonPre(value));
  return h(
    'details',
    { class: 'changes' },
    h('summary', { text: `${changes.length}${truncated ? '+' : ''} JSON change(s)` }),
    h(
      'table',
      { class: 'diff json-changes' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Path', 'Change', 'Before', 'After'].map((t) => h('th', { text: t })),
        ),
      ),
      h(
        'tbody',
        {},
        changes.map((c) =>
          h(
            'tr',
            { class: `kind-${c.kind}` },
            h('td', {}, h('code', { text: c.path || '(root)' })),
            h('td', { text: c.kind }),
            cell(c.before),
            cell(c.after),
          ),
        ),
      ),
    ),
  );
}

function timeline(events) {
  return h(
    'ol',
    { class: 'events timeline' },
    events.map((e) => {
      const details = h(
        'details',
        {},
        h('summary', {}, h('time', { text: fmtTime(e.at) }), ' ', h('span', { class: 'type', text: e.type })),
      );
      details.addEventListener(
        'toggle',
        () => {
          if (details.open && details.childElementCount === 1) details.append(jsonPre(e.data));
        },
        { once: false },
      );
      return h(
        'li',
        {
          class: `event ${e.type.endsWith('.blocked') || e.type === 'call.failed' ? 'cat-alert' : ''}`.trim(),
        },
        details,
      );
    }),
  );
}

function raw(title, value) {
  const details = h('details', { class: 'raw' }, h('summary', { text: title }));
  details.addEventListener('toggle', () => {
    if (details.open && details.childElementCount === 1)
      details.append(
        value === null || value === undefined ? h('p', { class: 'muted', text: '(none)' }) : jsonPre(value),
      );
  });
  return details;
}
