// The control plane's JSON API (docs/central.md), and nothing else.
//
// Every change (anything but GET/HEAD) carries the session's CSRF token in X-CSRF-Token; the
// token comes from POST /api/login or GET /api/me. The session itself is an HttpOnly cookie the
// browser sends by itself. A refused request becomes an ApiError with the server's code, message
// and details ({line, field, message}).

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
  }
}

let csrfToken = null;
let unauthenticatedHandler = null;

export function setCsrf(token) { csrfToken = token || null; }

/** Called when any request (but login) answers 401: the session is gone. */
export function onUnauthenticated(handler) { unauthenticatedHandler = handler; }

export async function request(method, path, body, { signal } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch('/api' + path, init);
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The control plane cannot be reached. Check the connection and try again.');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!response.ok) {
    const inner = data && typeof data === 'object' ? data.error : null;
    const error = inner
      ? new ApiError(response.status, inner.code, inner.message, inner.details)
      : new ApiError(response.status, response.status === 404 ? 'not-found' : `http-${response.status}`,
        response.status === 404 ? `The server has no ${method} ${'/api' + path.split('?')[0]}.`
          : `The server answered ${response.status} ${response.statusText}.`);
    if (response.status === 401 && path !== '/login' && unauthenticatedHandler) unauthenticatedHandler();
    throw error;
  }
  return data;
}

export const get = (path, options) => request('GET', path, undefined, options);
export const post = (path, body, options) => request('POST', path, body === undefined ? {} : body, options);

/** A path segment, escaped (route and pole ids are plain, but never trust that). */
export const seg = (value) => encodeURIComponent(String(value));

/** Runs `task` over `items` with at most `limit` at a time; results in order. */
export async function mapLimited(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
