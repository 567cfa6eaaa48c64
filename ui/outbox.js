// Never lose a scan. Every action that changes something is given its Idempotency-Key when
// the worker makes it, written to IndexedDB, and only then sent. Actions are sent strictly in
// the order they were made. A network failure leaves the action (and everything after it)
// queued; it is sent again when the browser comes back online and every RETRY_MS. The server
// answers a repeated key with the first answer, so an action is never applied twice.
import { request, newKey, ApiError } from './api.js';
import * as db from './idb.js';

const RETRY_MS = 15000;
const MAX_SERVER_ERROR_ATTEMPTS = 5;

let user = null;
let ops = [];              // snapshot of the stored records, for the header and the list screen
let sendingKey = null;
const waiters = new Map(); // idempotency key → {resolve, reject} of a submit() still on screen
const listeners = new Set();
let draining = false;
let drainAgain = false;

export function setOutboxUser(username) {
  user = username;
  if (user) drain();
}

/** Subscribe to changes: fn({ops, pending, failed, sendingKey, event?}). Returns unsubscribe. */
export function subscribe(fn) {
  listeners.add(fn);
  fn(snapshot());
  return () => listeners.delete(fn);
}

function snapshot(event) {
  return {
    ops,
    pending: ops.filter((o) => o.state === 'pending').length,
    failed: ops.filter((o) => o.state === 'failed').length,
    sendingKey,
    event,
  };
}

async function refresh(event) {
  try {
    ops = (await db.all()).sort((a, b) => a.seq - b.seq);
  } catch {
    // Keep the last snapshot; the next refresh will catch up.
  }
  const snap = snapshot(event);
  for (const fn of listeners) fn(snap);
}

/**
 * Makes an action and sends it as soon as everything before it has been sent.
 * Resolves {state:'done', data} with the server's answer, or {state:'queued', reason} when
 * it could not be sent now (reason 'network', 'unavailable', 'unauthenticated'…; sent later). Rejects with ApiError when the server refuses it
 * (that refusal is for the screen to show; the action is then dropped from the outbox).
 * `label` = {k: i18n key, v: vars} describes the action in the pending list.
 */
export async function submit({ method = 'POST', path, body, label }) {
  if (!user) throw new ApiError(401, { code: 'unauthenticated' });
  const op = {
    key: newKey(),
    method,
    path,
    body: body === undefined ? {} : body,
    label,
    user,
    made_at: new Date().toISOString(),
    state: 'pending',
    attempts: 0,
  };
  const promise = new Promise((resolve, reject) => waiters.set(op.key, { resolve, reject }));
  try {
    op.seq = await db.add(op);
  } catch {
    waiters.delete(op.key);
    throw new ApiError(0, { code: 'storage' });
  }
  await refresh();
  drain();
  return promise;
}

/** Sends whatever is queued now (online event, timer, button). */
export function retryNow() {
  drain();
}

/** Drops an action from the outbox (only failed or other users' actions are offered for this). */
export async function discard(seq) {
  await db.remove(seq);
  await refresh();
}

// Cross-tab serialisation: navigator.locks where the page is a secure context, else none
// (two tabs sending the same action is still harmless thanks to the idempotency key).
function withLock(fn) {
  if (navigator.locks && typeof navigator.locks.request === 'function') {
    return navigator.locks.request('br-outbox', fn);
  }
  return fn();
}

async function drain() {
  if (!user) return;
  if (draining) {
    drainAgain = true;
    return;
  }
  draining = true;
  try {
    do {
      drainAgain = false;
      await withLock(drainOnce);
    } while (drainAgain);
  } finally {
    draining = false;
    sendingKey = null;
    await refresh();
  }
}

function settle(key, how, value) {
  const w = waiters.get(key);
  if (!w) return false;
  waiters.delete(key);
  w[how](value);
  return true;
}

/** Resolves the on-screen waiters of every remaining action of this user as 'queued'. */
function releaseWaiters(list, reason) {
  for (const op of list) settle(op.key, 'resolve', { state: 'queued', reason });
}

async function drainOnce() {
  const mine = (await db.all())
    .filter((o) => o.state === 'pending' && o.user === user)
    .sort((a, b) => a.seq - b.seq);
  for (let i = 0; i < mine.length; i += 1) {
    const op = mine[i];
    const current = await db.getOne(op.seq);
    if (!current) {
      // Another tab sent it meanwhile; its answer is not known here, the screen reloads.
      settle(op.key, 'resolve', { state: 'done', data: null });
      continue;
    }
    sendingKey = op.key;
    await refresh();
    try {
      const data = await request(op.method, op.path, { body: op.body, key: op.key });
      await db.remove(op.seq);
      if (!settle(op.key, 'resolve', { state: 'done', data })) await refresh({ type: 'sent', op });
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, { code: 'network' });
      const serverError = e.status >= 500 && !e.transient;
      if (e.transient || e.code === 'unauthenticated'
          || (serverError && current.attempts + 1 < MAX_SERVER_ERROR_ATTEMPTS)) {
        // Keep it (and everything after it, in order) for the next attempt.
        await db.put({ ...current, attempts: current.attempts + 1, last_error: e.code, last_try: new Date().toISOString() });
        releaseWaiters(mine.slice(i), e.code);
        if (e.code === 'unauthenticated') window.dispatchEvent(new CustomEvent('br:unauthenticated'));
        return;
      }
      if (settle(op.key, 'reject', e)) {
        await db.remove(op.seq);
      } else {
        // Nobody is looking at this action any more: keep it, marked, until the worker dismisses it.
        await db.put({ ...current, state: 'failed', attempts: current.attempts + 1, problem: { ...e.problem, code: e.code, status: e.status } });
        await refresh({ type: 'failed', op, error: e });
      }
    }
  }
}

window.addEventListener('online', () => drain());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') drain();
});
setInterval(() => {
  if (ops.some((o) => o.state === 'pending' && o.user === user)) drain();
}, RETRY_MS);
refresh();
