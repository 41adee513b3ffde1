// Live activity: the admin event feed (SSE), newest first, filtered server-side, pausable, bounded.
import { append, h, jsonPre, replace, seg } from './dom.js';
import { categoryOf, eventSummary, fmtTime, shortId } from './format.js';
import { query } from './api.js';

/** Rows kept on screen (older ones are removed). */
const MAX_ROWS = 300;
/** Events held while paused (beyond: dropped, counted). */
const MAX_HELD = 1000;

export function renderLive(main) {
  const params = new URLSearchParams(window.location.search);
  const typeInput = h('input', {
    name: 'type',
    id: 'filter-type',
    placeholder: 'type prefixes, e.g. call.,policy.',
    value: params.get('type') ?? '',
    size: 28,
  });
  const sessionInput = h('input', {
    name: 'session',
    id: 'filter-session',
    placeholder: 'session id',
    value: params.get('session') ?? '',
  });
  const callInput = h('input', {
    name: 'call',
    id: 'filter-call',
    placeholder: 'call id',
    value: params.get('call') ?? '',
  });
  const status = h('span', {
    id: 'feed-status',
    class: 'status',
    dataset: { state: 'connecting' },
    text: 'connecting…',
    'aria-live': 'polite',
  });
  const held = h('span', { id: 'feed-held', class: 'muted' });
  const pauseButton = h('button', { type: 'button', id: 'feed-pause', class: 'secondary', text: 'Pause' });
  const clearButton = h('button', { type: 'button', id: 'feed-clear', class: 'secondary', text: 'Clear' });
  const list = h('ol', { id: 'events', class: 'events' });

  let source = null;
  let paused = false;
  let queue = [];
  let dropped = 0;

  const showHeld = () => {
    held.textContent = paused ? `${queue.length} new${dropped > 0 ? `, ${dropped} dropped` : ''}` : '';
  };

  const addRow = (event) => {
    list.prepend(eventRow(event));
    while (list.childElementCount > MAX_ROWS) list.lastElementChild.remove();
  };

  const setStatus = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };

  const connect = () => {
    if (source !== null) source.close();
    const filter = { type: typeInput.value, session: sessionInput.value, call: callInput.value };
    window.history.replaceState(null, '', `/ui/live${query(filter)}`);
    source = new EventSource(`/api/events/stream${query(filter)}`);
    setStatus('connecting', 'connecting…');
    source.addEventListener('open', () => setStatus('open', 'live'));
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) setStatus('closed', 'disconnected (reload to retry)');
      else setStatus('connecting', 'reconnecting…');
    });
    source.addEventListener('gap', () => {
      list.prepend(h('li', { class: 'event gap', text: 'Some events were missed while disconnected.' }));
    });
    source.addEventListener('message', (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (paused) {
        if (queue.length < MAX_HELD) queue.push(event);
        else dropped++;
        showHeld();
      } else addRow(event);
    });
  };

  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    pauseButton.dataset.paused = String(paused);
    if (!paused) {
      for (const event of queue) addRow(event);
      queue = [];
      dropped = 0;
    }
    showHeld();
  });
  clearButton.addEventListener('click', () => list.replaceChildren());

  const form = h(
    'form',
    {
      class: 'toolbar',
      id: 'feed-filter',
      on: {
        submit: (e) => {
          e.preventDefault();
          connect();
        },
      },
    },
    typeInput,
    sessionInput,
    callInput,
    h('button', { type: 'submit', text: 'Apply' }),
    pauseButton,
    clearButton,
    status,
    held,
  );
  replace(main, h('h1', { text: 'Live activity' }), form, list);
  connect();
  window.addEventListener('pagehide', () => source?.close());
}

function eventRow(event) {
  const type = String(event.type ?? '');
  const details = h('div', { class: 'event-details', hidden: true });
  const row = h(
    'li',
    {
      class: `event cat-${categoryOf(type)}`,
      dataset: { type, callId: event.callId ?? '', eventId: event.id ?? '' },
    },
    h('time', { class: 'at', text: fmtTime(event.at) }),
    h('span', { class: 'type', text: type }),
    event.callId
      ? h('a', {
          class: 'call',
          href: `/ui/calls/${seg(event.callId)}`,
          title: event.callId,
          text: shortId(event.callId),
        })
      : h('span', { class: 'call muted', text: '—' }),
    h('span', { class: 'summary', text: eventSummary(event) }),
    details,
  );
  row.addEventListener('click', (e) => {
    if (e.target instanceof HTMLAnchorElement) return;
    if (details.childElementCount === 0) {
      append(details, [
        event.sessionId
          ? h(
              'p',
              {},
              'Session: ',
              h('a', { href: `/ui/sessions/${seg(event.sessionId)}`, text: event.sessionId }),
            )
          : null,
        event.trimmed
          ? h('p', { class: 'muted', text: 'Large values are trimmed here; open the call for everything.' })
          : null,
        jsonPre(event.data),
      ]);
    }
    details.hidden = !details.hidden;
  });
  return row;
}
