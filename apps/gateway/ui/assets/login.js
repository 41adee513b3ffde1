// The login form (shown when ADMIN_API_KEY is set): exchanges the key for an HttpOnly session cookie.
import { api } from './api.js';
import { h, replace } from './dom.js';

export function renderLogin(main, reason) {
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  const error = h('p', { class: 'error', id: 'login-error', role: 'alert' });
  const key = h('input', {
    type: 'password',
    name: 'key',
    id: 'login-key',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit', text: 'Log in' });
  const form = h(
    'form',
    {
      id: 'login-form',
      class: 'login',
      on: {
        submit: async (event) => {
          event.preventDefault();
          submit.disabled = true;
          error.textContent = '';
          try {
            await api('/api/auth/login', { method: 'POST', body: { key: key.value }, noAuthRedirect: true });
            window.location.reload();
          } catch (e) {
            error.textContent = e.status === 401 ? 'Wrong key.' : e.message;
            submit.disabled = false;
            key.select();
          }
        },
      },
    },
    h('h1', { text: 'Warden admin' }),
    reason ? h('p', { class: 'notice', text: reason }) : null,
    h('label', { for: 'login-key', text: 'Admin API key' }),
    key,
    submit,
    error,
  );
  replace(main, form);
  key.focus();
}
