// Entry point: checks access, then renders the page named by the path. Pages are plain modules with render(main, params).
import { api, onUnauthorized } from './api.js';
import { h, replace } from './dom.js';
import { renderLogin } from './login.js';
import { renderLive } from './live.js';
import { renderHistory } from './history.js';
import { renderSession } from './session.js';
import { renderCall } from './call.js';
import { renderPolicy } from './policy.js';

const ROUTES = [
  [/^\/ui\/?$/, 'live', renderLive],
  [/^\/ui\/live\/?$/, 'live', renderLive],
  [/^\/ui\/history\/?$/, 'history', renderHistory],
  [/^\/ui\/sessions\/([^/]+)\/?$/, 'history', renderSession],
  [/^\/ui\/calls\/([^/]+)\/?$/, 'history', renderCall],
  [/^\/ui\/policy\/?$/, 'policy', renderPolicy],
];

async function start() {
  const main = document.getElementById('app');
  onUnauthorized(() => renderLogin(main, 'Your session has ended: log in again.'));
  let state;
  try {
    state = await api('/api/auth/session', { noAuthRedirect: true });
  } catch (error) {
    replace(main, h('p', { class: 'notice error', text: `Cannot reach the gateway: ${error.message}` }));
    return;
  }
  if (!state.authenticated) {
    if (state.loginRequired) renderLogin(main);
    else
      replace(
        main,
        h('p', {
          class: 'notice error',
          text: 'The admin UI serves this machine only (ADMIN_API_KEY is not set). Open it as http://localhost or http://127.0.0.1.',
        }),
      );
    return;
  }
  const nav = document.getElementById('nav');
  nav.hidden = false;
  const logout = document.getElementById('logout');
  if (state.via === 'session') {
    logout.hidden = false;
    logout.addEventListener('click', async () => {
      await api('/api/auth/logout', { method: 'POST', noAuthRedirect: true }).catch(() => null);
      window.location.assign('/ui');
    });
  }
  const path = window.location.pathname;
  for (const [pattern, page, render] of ROUTES) {
    const match = pattern.exec(path);
    if (match === null) continue;
    for (const link of nav.querySelectorAll('a')) link.classList.toggle('active', link.dataset.page === page);
    const params = match.slice(1).map((p) => decodeURIComponent(p));
    try {
      await render(main, ...params);
    } catch (error) {
      if (error?.status !== 401)
        replace(main, h('p', { class: 'notice error', text: `Error: ${error.message}` }));
    }
    return;
  }
  replace(main, h('p', { class: 'notice', text: 'No such page.' }));
}

start();
