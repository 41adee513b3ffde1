// One session as a conversation: per call, the user's new messages and the assistant's reply; export links.
import { api, query } from './api.js';
import { h, replace, seg } from './dom.js';
import { fmtDateTime } from './format.js';
import { renderMessage } from './blocks.js';

export async function renderSession(main, id) {
  const { session, turns } = await api(`/api/sessions/${seg(id)}`);
  replace(
    main,
    h('h1', {}, 'Session ', h('code', { text: session.id })),
    h('p', {
      class: 'muted',
      text: `${fmtDateTime(session.firstAt)} – ${fmtDateTime(session.lastAt)} · ${session.callCount} calls · ${(session.models ?? []).join(', ')}`,
    }),
    h(
      'p',
      { class: 'toolbar' },
      h('a', {
        class: 'button secondary',
        href: `/api/sessions/${seg(session.id)}/export${query({ format: 'markdown' })}`,
        text: 'Export Markdown',
      }),
      h('a', {
        class: 'button secondary',
        href: `/api/sessions/${seg(session.id)}/export${query({ format: 'jsonl' })}`,
        text: 'Export JSONL',
      }),
      h('a', {
        class: 'button secondary',
        href: `/ui/history${query({ session: session.id })}`,
        text: 'Calls',
      }),
      h('a', { class: 'button secondary', href: `/ui/live${query({ session: session.id })}`, text: 'Live' }),
    ),
    h(
      'ol',
      { class: 'turns', id: 'turns' },
      turns.map((turn, i) =>
        h(
          'li',
          { class: 'turn', dataset: { callId: turn.callId } },
          h(
            'div',
            { class: 'turn-head' },
            h('a', { href: `/ui/calls/${seg(turn.callId)}`, text: `Turn ${i + 1}` }),
            h('span', { class: 'muted', text: ` ${fmtDateTime(turn.at)} · ${turn.model} · ${turn.status}` }),
            (turn.policyActions ?? []).map((a) =>
              h('span', { class: `badge ${String(a).endsWith('.blocked') ? 'alert' : 'policy'}`, text: a }),
            ),
          ),
          turn.user.map((m) => renderMessage(m)),
          turn.assistant
            ? renderMessage(turn.assistant)
            : h('p', { class: 'muted', text: '(no reply recorded)' }),
        ),
      ),
    ),
  );
}
