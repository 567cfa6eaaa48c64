// The one way to the server: fetch with the session cookie, JSON in and out, and
// problem+json answers turned into ApiError with the server's stable `code`.
// Mutations that change the warehouse go through outbox.js, which calls request() here.

export const BASE = '/api/v1';

const GET_TIMEOUT_MS = 15000;
const SEND_TIMEOUT_MS = 20000;

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    super(p.detail || p.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = p;
    this.code = p.code || codeForStatus(status);
    this.fields = Array.isArray(p.errors) ? p.errors : [];
  }

  /** Worth trying again later: the request may never have arrived, or the server was busy. */
  get transient() {
    return this.code === 'network' || this.code === 'unavailable' || this.code === 'rate_limited'
      || this.code === 'idempotency_in_progress' || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

function codeForStatus(status) {
  switch (status) {
    case 0: return 'network';
    case 401: return 'unauthenticated';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 409: return 'conflict';
    case 422: return 'validation';
    case 429: return 'rate_limited';
    case 502: case 503: case 504: return 'unavailable';
    default: return `http_${status}`;
  }
}

/** A random UUID. crypto.randomUUID exists only on https/localhost; handhelds on the
 *  warehouse LAN often use plain http, so fall back to getRandomValues (available everywhere). */
export function newKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Builds /api/v1 + path + query string, leaving out empty values. */
export function apiUrl(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v === null || v === undefined || v === '') continue;
    params.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const qs = params.toString().replace(/%2C/gi, ',');
  return `${BASE}${path}${qs ? `?${qs}` : ''}`;
}

/** Path segment encoding for ids and scanned codes. */
export function seg(value) {
  return encodeURIComponent(String(value));
}

async function parseBody(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  const type = res.headers.get('content-type') || '';
  if (type.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }
  return null;
}

// Whether the server answers: the browser may say it is online while the Wi-Fi reaches no
// server (or the server is down). Every request tells; 'br:connectivity' says when it changes.
let reachable = true;

function setReachable(yes) {
  if (yes === reachable) return;
  reachable = yes;
  window.dispatchEvent(new CustomEvent('br:connectivity', { detail: { online: isOnline() } }));
}

/** The server can be reached, as far as the last request and the browser know. */
export function isOnline() {
  return navigator.onLine !== false && reachable;
}

/** Asks the server whether it is there (GET /healthz, not a session request); resolves the
 *  answer and tells everyone when it changed. */
export async function probe(timeout = 5000) {
  if (navigator.onLine === false) return false;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  try {
    const res = await fetch('/healthz', { cache: 'no-store', signal: controller.signal });
    setReachable(res.status < 500 || res.status === 503);
  } catch {
    setReachable(false);
  } finally {
    clearTimeout(timer);
  }
  return reachable;
}

/**
 * One HTTP request. Resolves with the parsed JSON body; throws ApiError otherwise
 * (code 'network' when the server could not be reached or did not answer in time).
 */
export async function request(method, path, { body, key, query, timeout } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const mutating = method !== 'GET' && method !== 'HEAD';
  if (mutating) {
    headers['Content-Type'] = 'application/json';
    headers['Idempotency-Key'] = key || newKey();
  }
  if (navigator.onLine === false) throw new ApiError(0, { code: 'network' });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout || (mutating ? SEND_TIMEOUT_MS : GET_TIMEOUT_MS));
  let res;
  try {
    res = await fetch(apiUrl(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
    });
  } catch {
    setReachable(false);
    throw new ApiError(0, { code: 'network' });
  } finally {
    clearTimeout(timer);
  }
  // A proxy's "bad gateway" or "gateway timeout" is no answer from the server either.
  setReachable(res.status !== 502 && res.status !== 504);
  let data;
  try {
    data = await parseBody(res);
  } catch {
    throw new ApiError(0, { code: 'network' });
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data && typeof data === 'object' ? data : null);
    if (err.code === 'unauthenticated' && !path.startsWith('/session') && path !== '/me') {
      window.dispatchEvent(new CustomEvent('br:unauthenticated'));
    }
    throw err;
  }
  return data;
}

/**
 * Downloads a file from the API (a CSV export, a ZPL label) under `filename`. Throws ApiError
 * like `request` does; resolves with the response headers (e.g. X-Truncated).
 */
export async function download(path, query, filename) {
  if (navigator.onLine === false) throw new ApiError(0, { code: 'network' });
  let res;
  try {
    res = await fetch(apiUrl(path, query), { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, { code: 'network' });
  }
  if (!res.ok) {
    let data = null;
    try { data = await parseBody(res); } catch { /* no problem body */ }
    throw new ApiError(res.status, data && typeof data === 'object' ? data : null);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return res.headers;
}

export function get(path, query) {
  return request('GET', path, { query });
}

/** Every page of a list endpoint, up to `max` items (for small lists such as bins). */
export async function getAll(path, query, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const page = await get(path, { ...query, cursor });
    items.push(...(page?.items || []));
    cursor = page?.next_cursor || null;
  } while (cursor && items.length < max);
  return items;
}
