// History: sessions (newest first, searchable) and calls with filters; both paginated with cursors.
import { api, query } from './api.js';
import { h, replace, seg } from './dom.js';
import { fmtDateTime, fmtMs, shortId } from './format.js';

const STATUSES = ['', 'in_progress', 'completed', 'failed', 'aborted'];

export async function renderHistory(main) {
  const params = new URLSearchParams(window.location.search);
  const sessionsList = h('ul', { class: 'sessions', id: 'sessions' });
  const sessionsMore = h('button', {
    type: 'button',
    class: 'secondary',
    text: 'More sessions',
    hidden: true,
  });
  const sessionSearch = h('input', {
    name: 'q',
    placeholder: 'search sessions',
    value: params.get('sq') ?? '',
  });

  const field = (name, placeholder, type = 'text') =>
    h('input', { name, id: `calls-${name}`, placeholder, type, value: params.get(name) ?? '' });
  const inputs = {
    session: field('session', 'session id'),
    model: field('model', 'model'),
    policyAction: field('policyAction', 'policy action, e.g. blocked'),
    q: field('q', 'text search'),
    from: field('from', 'from (ISO date)'),
    to: field('to', 'to (ISO date)'),
  };
  const status = h(
    'select',
    { name: 'status', id: 'calls-status' },
    STATUSES.map((s) =>
      h('option', { value: s, text: s === '' ? 'any status' : s, selected: params.get('status') === s }),
    ),
  );
  const callsBody = h('tbody', { id: 'calls' });
  const callsMore = h('button', { type: 'button', class: 'secondary', text: 'More calls', hidden: true });
  const error = h('p', { class: 'error', role: 'alert' });

  let sessionsCursor = null;
  let callsCursor = null;

  const filters = () => ({
    session: inputs.session.value,
    model: inputs.model.value,
    status: status.value,
    policyAction: inputs.policyAction.value,
    q: inputs.q.value,
    from: inputs.from.value,
    to: inputs.to.value,
  });

  const loadSessions = async (reset) => {
    if (reset) {
      sessionsCursor = null;
      sessionsList.replaceChildren();
    }
    let page;
    try {
      page = await api(
        `/api/sessions${query({ q: sessionSearch.value, cursor: sessionsCursor, limit: 50 })}`,
      );
    } catch (e) {
      // 404: this gateway records no history (HISTORY_ENABLED=false); the calls column says so.
      if (e.status === 404) return;
      throw e;
    }
    for (const s of page.items) {
      sessionsList.append(
        h(
          'li',
          {},
          h('a', { href: `/ui/sessions/${seg(s.id)}`, title: s.id, text: shortId(s.id) }),
          h('span', {
            class: 'muted',
            text: ` ${fmtDateTime(s.lastAt)} · ${s.callCount} call${s.callCount === 1 ? '' : 's'} · ${(s.models ?? []).join(', ')}`,
          }),
          ' ',
          h('a', { class: 'small', href: `/ui/history${query({ session: s.id })}`, text: 'calls' }),
        ),
      );
    }
    sessionsCursor = page.nextCursor;
    sessionsMore.hidden = sessionsCursor === null;
  };

  const loadCalls = async (reset) => {
    if (reset) {
      callsCursor = null;
      callsBody.replaceChildren();
      window.history.replaceState(null, '', `/ui/history${query(filters())}`);
    }
    error.textContent = '';
    try {
      const page = await api(`/api/calls${query({ ...filters(), cursor: callsCursor, limit: 50 })}`);
      for (const call of page.items) callsBody.append(callRow(call));
      if (reset && page.items.length === 0)
        callsBody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted', text: 'No calls.' })));
      callsCursor = page.nextCursor;
      callsMore.hidden = callsCursor === null;
    } catch (e) {
      // 400: a filter the API refused; 404: history is disabled on this gateway.
      if (e.status === 400 || e.status === 404) error.textContent = e.message;
      else throw e;
    }
  };

  sessionsMore.addEventListener('click', () => loadSessions(false));
  callsMore.addEventListener('click', () => loadCalls(false));

  replace(
    main,
    h('h1', { text: 'History' }),
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { class: 'side' },
        h('h2', { text: 'Sessions' }),
        h(
          'form',
          {
            class: 'toolbar',
            on: {
              submit: (e) => {
                e.preventDefault();
                loadSessions(true);
              },
            },
          },
          sessionSearch,
          h('button', { type: 'submit', text: 'Search' }),
        ),
        sessionsList,
        sessionsMore,
      ),
      h(
        'section',
        { class: 'wide' },
        h('h2', { text: 'Calls' }),
        h(
          'form',
          {
            class: 'toolbar',
            id: 'calls-filter',
            on: {
              submit: (e) => {
                e.preventDefault();
                loadCalls(true);
              },
            },
          },
          Object.values(inputs),
          status,
          h('button', { type: 'submit', text: 'Filter' }),
        ),
        error,
        h(
          'table',
          { class: 'calls' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Started', 'Model', 'Status', 'Policy', 'Duration', 'Tokens', 'Session'].map((t) =>
                h('th', { text: t }),
              ),
            ),
          ),
          callsBody,
        ),
        callsMore,
      ),
    ),
  );
  await Promise.all([loadSessions(true), loadCalls(true)]);
}

function callRow(call) {
  const tokens =
    call.inputTokens === null && call.outputTokens === null
      ? ''
      : `${call.inputTokens ?? '?'} / ${call.outputTokens ?? '?'}`;
  return h(
    'tr',
    { dataset: { callId: call.id } },
    h(
      'td',
      {},
      h('a', { href: `/ui/calls/${seg(call.id)}`, title: call.id, text: fmtDateTime(call.startedAt) }),
    ),
    h('td', { text: call.model }),
    h(
      'td',
      {},
      h('span', { class: `badge status-${String(call.status).replace(/[^a-z_]/g, '')}`, text: call.status }),
    ),
    h(
      'td',
      {},
      (call.policyActions ?? []).map((a) =>
        h('span', { class: `badge ${String(a).endsWith('.blocked') ? 'alert' : 'policy'}`, text: a }),
      ),
    ),
    h('td', { text: fmtMs(call.durationMs) }),
    h('td', { text: tokens }),
    h(
      'td',
      {},
      h('a', {
        href: `/ui/sessions/${seg(call.sessionId)}`,
        title: call.sessionId,
        text: shortId(call.sessionId),
      }),
    ),
  );
}
