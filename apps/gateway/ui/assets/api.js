// The admin API client: same-origin fetch with the session cookie; errors carry the status and the API message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let unauthorizedHandler = null;

/** Called when any request answers 401 (the session expired): the app shows the login form. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** GET (or `init.method`) a JSON endpoint; `body` is sent as JSON. Resolves to the parsed body (null for 204). */
export async function api(path, init = {}) {
  const headers = { accept: 'application/json' };
  let body;
  if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  const res = await fetch(path, { method: init.method ?? 'GET', headers, body, credentials: 'same-origin' });
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const message = data?.error?.message ?? `${res.status} ${res.statusText}`;
    if (res.status === 401 && unauthorizedHandler !== null && !init.noAuthRedirect) unauthorizedHandler();
    throw new ApiError(res.status, String(message));
  }
  return data;
}

/** A query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && String(value).trim() !== '')
      search.set(key, String(value).trim());
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
