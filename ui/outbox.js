// Never lose a scan. Every action that changes something is given its Idempotency-Key when
// the worker makes it, written to IndexedDB, and only then sent. Actions are sent strictly in
// the order they were made. A network failure leaves the action (and everything after it)
// queued; it is sent again when the server can be reached and every RETRY_MS. The server
// answers a repeated key with the first answer, so an action is never applied twice.
//
// A floor step is also applied at once to the local copy (localcopy.js), so that the next step
// of the same parcel can be done while offline. When it is sent the server decides as always:
// an action it refuses that nobody is looking at any more (made offline, sent later) is kept as
// "needs attention" (state 'failed') with the server's reason until the worker dismisses it,
// and the later actions of the same parcel made before that refusal are held back with it (they
// were counted on what the refused step would have done).
import { request, newKey, ApiError } from './api.js';
import * as db from './idb.js';
import { applyStep, settleStep, reloadReturn, refreshCopy, stepOf, setPendingSource } from './localcopy.js';
import { addLabelToPrint } from './store.js';

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
    sending: draining,
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

/** This user's actions not yet sent, in order (the local copy applies them again after a
 *  refresh). */
async function pendingOfUser() {
  if (!user) return [];
  return (await db.all()).filter((o) => o.state === 'pending' && o.user === user).sort((a, b) => a.seq - b.seq);
}
setPendingSource(pendingOfUser);

/**
 * Makes an action and sends it as soon as everything before it has been sent.
 * Resolves {state:'done', data} with the server's answer, or {state:'queued', reason, local}
 * when it could not be sent now (reason 'network', 'unavailable', 'unauthenticated'…; sent
 * later; `local`: the return as the device now has it, the step applied). Rejects with
 * ApiError when the server refuses it (that refusal is for the screen to show; the action is
 * then dropped from the outbox).
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
    return_id: stepOf({ path })?.id || null,
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
  // The parcel moves on on this device at once; the server's answer corrects it.
  let local = null;
  try {
    local = await applyStep(op);
  } catch {
    local = null;
  }
  await refresh();
  drain();
  const res = await promise;
  return res.state === 'queued' ? { ...res, local } : res;
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
  let sent = 0;
  try {
    do {
      drainAgain = false;
      sent += (await withLock(drainOnce)) || 0;
    } while (drainAgain);
  } finally {
    draining = false;
    sendingKey = null;
    await refresh();
  }
  // What the server now has, on the device too (the steps sent, and others' work).
  if (sent) refreshCopy().catch(() => {});
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

/**
 * The server refused `op`: the later actions of the same parcel, made before anyone knew, are
 * not sent but kept with it as needing attention.
 */
async function holdBackAfter(op) {
  if (!op.return_id) return;
  const later = (await db.all()).filter((o) => o.seq > op.seq && o.state === 'pending'
    && o.user === op.user && o.return_id === op.return_id);
  for (const o of later) {
    await db.put({ ...o, state: 'failed', problem: { code: 'blocked_by_refusal', status: 0, blocked_by: op.seq } });
    settle(o.key, 'resolve', { state: 'queued', reason: 'blocked_by_refusal' });
    await settleStep(o, null);
  }
}

/**
 * A step refused because its parcel is on customs hold now (put there while the step waited on
 * the device): the refusal as `held`, with the supervisor's reason from the return's history.
 */
function heldMeanwhile(e, now) {
  if (e.code !== 'invalid_state' || !now || now.state !== 'held') return null;
  const hold = [...(now.history || [])].reverse().find((x) => x.action === 'return.hold');
  return new ApiError(e.status, { ...e.problem, code: 'held', hold_reason: hold?.reason || null });
}

/**
 * A receive made offline (or queued) and sent now, that no printer printed (none chosen on the
 * device): its label waits for the browser's print dialog, so the home screen reminds the worker.
 */
function remindLabel(op, data) {
  const step = stepOf(op);
  if (!step || step.step !== 'receive' || op.body?.printer || data?.print_job) return;
  addLabelToPrint(data?.id || step.id, op.user);
}

/** Sends this user's pending actions in order; resolves how many were sent. */
async function drainOnce() {
  const mine = (await db.all())
    .filter((o) => o.state === 'pending' && o.user === user)
    .sort((a, b) => a.seq - b.seq);
  let sent = 0;
  for (let i = 0; i < mine.length; i += 1) {
    const op = mine[i];
    const current = await db.getOne(op.seq);
    if (!current) {
      // Another tab sent it meanwhile; its answer is not known here, the screen reloads.
      settle(op.key, 'resolve', { state: 'done', data: null });
      continue;
    }
    // Held back meanwhile (an earlier action of its parcel was refused).
    if (current.state !== 'pending') continue;
    sendingKey = op.key;
    await refresh();
    try {
      const data = await request(op.method, op.path, { body: op.body, key: op.key });
      await db.remove(op.seq);
      sent += 1;
      await settleStep(op, data).catch(() => {});
      if (!settle(op.key, 'resolve', { state: 'done', data })) {
        remindLabel(op, data);
        await refresh({ type: 'sent', op });
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, { code: 'network' });
      const serverError = e.status >= 500 && !e.transient;
      if (e.transient || e.code === 'unauthenticated'
          || (serverError && current.attempts + 1 < MAX_SERVER_ERROR_ATTEMPTS)) {
        // Keep it (and everything after it, in order) for the next attempt.
        await db.put({ ...current, attempts: current.attempts + 1, last_error: e.code, last_try: new Date().toISOString() });
        releaseWaiters(mine.slice(i), e.code);
        if (e.code === 'unauthenticated') window.dispatchEvent(new CustomEvent('br:unauthenticated'));
        return sent;
      }
      // What the device guessed for the refused step is wrong: the server's word replaces it,
      // and says why when the parcel was put on customs hold meanwhile.
      await settleStep(op, null).catch(() => {});
      const now = op.return_id ? await reloadReturn(op.return_id).catch(() => null) : null;
      const refusal = heldMeanwhile(e, now) || e;
      const onScreen = settle(op.key, 'reject', refusal);
      if (onScreen) {
        await db.remove(op.seq);
      } else {
        // Nobody is looking at this action any more: keep it, marked, until the worker dismisses it.
        await db.put({
          ...current, state: 'failed', attempts: current.attempts + 1,
          problem: { ...refusal.problem, code: refusal.code, status: refusal.status }, refused_at: new Date().toISOString(),
        });
      }
      await holdBackAfter(current);
      if (!onScreen) await refresh({ type: 'failed', op, error: refusal });
    }
  }
  return sent;
}

window.addEventListener('online', () => drain());
window.addEventListener('br:connectivity', (e) => {
  if (e.detail?.online) drain();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') drain();
});
setInterval(() => {
  if (ops.some((o) => o.state === 'pending' && o.user === user)) drain();
}, RETRY_MS);
refresh();
