// The handheld's local copy of its warehouse's open work (GET /handheld/snapshot), kept in
// IndexedDB so that a parcel scanned while the Wi-Fi is down still resolves and its step
// screens still open: the open returns with their lines, product barcodes, HS codes and names,
// the bins and the cameras. Never anything about the buyer (the server sends none, and what is
// stored from other answers is picked field by field).
//
// Refreshed while online: at sign-in, every minute, and after the outbox has sent something;
// incrementally (`since` = the last cursor) and whole once an hour. A step queued while offline
// is applied to the copy at once (optimistically), so the next step of the same parcel works
// offline too; the server decides when the step is sent, and the next refresh brings its word.
import { get, request, ApiError } from './api.js';
import * as db from './idb.js';
import { setPref } from './store.js';

const REFRESH_MS = 60 * 1000;
const FULL_EVERY_MS = 60 * 60 * 1000;
const OPEN = ['declared', 'received', 'sorted', 'inspected', 'held'];
const COPY = 'copy';

let who = null;          // {username, role, warehouse} of the floor worker the copy is for
let timer = null;
let running = null;      // the refresh in progress
let pendingOps = () => Promise.resolve([]);
const listeners = new Set();

/** The outbox's actions not yet sent (to apply them again on top of a fresh copy). */
export function setPendingSource(fn) {
  pendingOps = fn;
}

/** Subscribe to changes of the copy: fn(status). Returns unsubscribe. */
export function onCopyChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

async function changed() {
  const s = await copyStatus();
  for (const fn of listeners) fn(s);
}

/** Keeps a copy for `me` (floor staff only); null stops it. */
export function startLocalCopy(me) {
  who = me && me.role === 'floor' && me.warehouse ? me : null;
  clearInterval(timer);
  timer = null;
  if (!who) return;
  timer = setInterval(() => { refreshCopy().catch(() => {}); }, REFRESH_MS);
  refreshCopy().catch(() => {});
}

/** Forgets the copy (signing out: the next person may be of another warehouse). */
export async function forgetLocalCopy() {
  startLocalCopy(null);
  await db.changeReturns({ clear: true });
  await db.setMeta(COPY, null);
  await changed();
}

/** {warehouse, cursor, fetched_at, count, truncated, limits} of the copy, or null. */
export async function copyStatus() {
  const meta = await db.getMeta(COPY);
  if (!meta) return null;
  return { ...meta, bins: undefined, cameras: undefined };
}

/** Brings the copy up to date (whole when asked, or when the last whole one is old). */
export function refreshCopy({ full = false } = {}) {
  if (!who) return Promise.resolve(null);
  if (running) return running;
  running = (async () => {
    try {
      return await refreshOnce(full);
    } finally {
      running = null;
    }
  })();
  return running;
}

async function refreshOnce(forceFull) {
  const me = who;
  const meta = (await db.getMeta(COPY)) || null;
  const same = meta && meta.warehouse === me.warehouse;
  const stale = !same || !meta.full_at || Date.now() - Date.parse(meta.full_at) > FULL_EVERY_MS;
  const since = forceFull || stale ? undefined : meta.cursor;
  const snap = await get('/handheld/snapshot', { warehouse: me.warehouse, since });
  if (who !== me) return null;
  const records = (snap.returns || []).map(keep);
  if (snap.full) await db.changeReturns({ clear: true, put: records });
  else await db.changeReturns({ put: records, remove: snap.removed || [] });
  const now = new Date().toISOString();
  const next = {
    warehouse: me.warehouse,
    warehouse_info: snap.warehouse,
    cursor: snap.cursor,
    server_at: snap.at,
    fetched_at: now,
    full_at: snap.full ? now : meta?.full_at,
    truncated: snap.full ? snap.truncated : Boolean(meta?.truncated),
    limits: snap.limits,
    bins: snap.bins || (same ? meta.bins : []) || [],
    cameras: snap.cameras || (same ? meta.cameras : []) || [],
  };
  // The screens' lists of bins and cameras (places.js) keep working from here too.
  if (snap.bins) setPref(`cache.bins.${me.warehouse}`, snap.bins.map((b) => ({ warehouse: me.warehouse, ...b })));
  if (snap.cameras) setPref(`cache.cameras.${me.warehouse}`, snap.cameras.map((c) => ({ warehouse: me.warehouse, ...c })));
  await trim(next.limits);
  // What this device did and has not sent yet still stands on it.
  for (const op of await pendingOps()) await applyStep(op);
  next.count = (await db.allReturns()).length;
  await db.setMeta(COPY, next);
  await changed();
  return next;
}

/** Keeps the copy within the server's bounds (the newest returns, none too old). */
async function trim(limits) {
  if (!limits) return;
  const all = await db.allReturns();
  const cutoff = Date.now() - limits.max_age_days * 86400 * 1000;
  const recent = (r) => Date.parse(r.applied_at) >= cutoff || (r.received_at && Date.parse(r.received_at) >= cutoff);
  const keepIds = new Set(all.filter((r) => OPEN.includes(r.state) && recent(r))
    .sort((a, b) => String(b.id).localeCompare(String(a.id)))
    .slice(0, limits.max_returns)
    .map((r) => r.id));
  // A return closed on this device stays until the server has the steps that closed it.
  const remove = all.filter((r) => !keepIds.has(r.id) && !r.local_steps).map((r) => r.id);
  if (remove.length) await db.changeReturns({ remove });
}

const RETURN_FIELDS = ['id', 'state', 'held_from', 'late', 'discrepancy', 'invt_no', 'logistics_no', 'warehouse', 'bin',
  'applied_at', 'released_at', 'received_at', 'apply_deadline', 'arrival_deadline', 'next_actions', 'excluded'];
const LINE_FIELDS = ['gnum', 'gcode', 'gname', 'unit', 'bar_code', 'qty', 'sorted', 'grades', 'restocked', 'disposed',
  'pending_disposal', 'in_warehouse', 'restockable', 'unsettled'];

function pick(obj, fields) {
  const out = {};
  for (const f of fields) if (obj[f] !== undefined) out[f] = obj[f];
  return out;
}

/** What the device keeps of a return: the fields the steps need, never the buyer's. */
function keep(r) {
  return {
    ...pick(r, RETURN_FIELDS),
    ebc: r.ebc ? { code: r.ebc.code, name: r.ebc.name } : null,
    agent: r.agent ? { code: r.agent.code, name: r.agent.name } : null,
    lines: (r.lines || []).map((l) => pick(l, LINE_FIELDS)),
  };
}

/** A kept return as the screens read a return (`GET /returns/{id}`), marked `offline`. */
function asView(rec) {
  const deadline = rec.arrival_deadline ? Date.parse(rec.arrival_deadline) : null;
  return {
    ...rec,
    held: rec.state === 'held',
    days_left: deadline === null ? null : Math.floor((deadline - Date.now()) / 86400000),
    discrepancies: rec.discrepancies || [],
    disposals: [],
    history: [],
    whereabouts: rec.whereabouts || [],
    offline: true,
  };
}

function summary(rec) {
  const v = asView(rec);
  return {
    id: v.id, state: v.state, held: v.held, late: v.late, discrepancy: v.discrepancy, invt_no: v.invt_no,
    logistics_no: v.logistics_no, ebc: v.ebc, warehouse: v.warehouse, applied_at: v.applied_at,
    received_at: v.received_at, arrival_deadline: v.arrival_deadline, days_left: v.days_left, next_actions: v.next_actions,
  };
}

/** The return `id` from the copy, as a screen reads it; null when the copy does not have it. */
export async function localReturn(id) {
  const rec = await db.getReturn(String(id || '').toUpperCase());
  return rec ? asView(rec) : null;
}

/** Keeps the server's word on a return of this warehouse (an answer read online). */
export async function rememberReturn(view) {
  if (!who || !view || !view.id) return;
  const existing = await db.getReturn(view.id);
  const mine = view.warehouse ? view.warehouse === who.warehouse : Boolean(existing);
  if (!mine) return;
  if (!OPEN.includes(view.state)) {
    if (existing && !existing.local_steps) await db.changeReturns({ remove: [view.id] });
    return;
  }
  const rec = keep(view);
  if (rec.excluded === undefined && existing) rec.excluded = existing.excluded;
  await db.changeReturns({ put: [rec] });
}

/** The warehouse's bins and cameras as the copy has them. */
export async function localPlaces() {
  const meta = await db.getMeta(COPY);
  return { bins: meta?.bins || [], cameras: meta?.cameras || [], warehouse: meta?.warehouse || null };
}

/** Counts per state and the returns near their arrival limit, like `GET /stats` (tiles). */
export async function localStats() {
  const all = (await db.allReturns()).map(asView);
  const by = {};
  for (const r of all) by[r.state] = (by[r.state] || 0) + 1;
  const settle = all.filter((r) => r.state === 'inspected' && (r.next_actions || []).some((a) => a === 'restock' || a === 'dispose'));
  return {
    by_state: by,
    to_settle: settle.length,
    awaiting_approval: all.filter((r) => r.state === 'inspected').length - settle.length,
    near_deadline: all.filter((r) => !r.received_at && r.days_left !== null && r.days_left <= 5)
      .map((r) => ({ id: r.id, kind: 'arrival', deadline: r.arrival_deadline, days_left: r.days_left })),
  };
}

/** The copy's returns in `state`, newest first, as list items. */
export async function localList(state) {
  return (await db.allReturns()).filter((r) => r.state === state)
    .sort((a, b) => String(b.id).localeCompare(String(a.id))).map(summary);
}

const RETURN_ID = /^RT\d{14}$/;
const norm = (c) => String(c || '').trim().toUpperCase();

function binAnswer(b, warehouse) {
  const next = b.area === 'restock' ? ['restock'] : ['pending_inspection', 'discrepancy', 'hold'].includes(b.area) ? ['sort']
    : b.area === 'exit' ? ['dispose'] : ['receive'];
  return { kind: 'bin', id: b.code, return: null, bin: { warehouse, code: b.code, area: b.area }, line: null, next_actions: next };
}

const lineOf = (l) => ({ gnum: l.gnum, gcode: l.gcode, gname: l.gname });

/**
 * What a scanned code is, from the copy, in the shape of `GET /scan/{code}` (with `offline`);
 * null when the copy does not know it. Same order as the server: a return label, an item
 * label, a product of the open return, a waybill, a bin, a product barcode on its own.
 */
export async function resolveLocally(raw, openReturnId) {
  const code = String(raw || '').trim();
  const upper = norm(code);
  if (!code) return null;
  const answer = (kind, id, rec, line = null) => ({
    kind, id, return: summary(rec), bin: null, line, next_actions: asView(rec).next_actions || [], offline: true,
  });
  if (RETURN_ID.test(upper)) {
    const rec = await db.getReturn(upper);
    if (rec) return answer('return', upper, rec);
  }
  const parts = upper.split('-');
  if (parts.length === 4 && RETURN_ID.test(parts[2])) {
    const rec = await db.getReturn(parts[2]);
    const line = rec && rec.ebc?.code === parts[0]
      ? rec.lines.find((l) => String(l.gnum) === parts[3] && l.gcode === parts[1]) : null;
    if (line) return answer('item', upper, rec, lineOf(line));
  }
  const isProduct = (l) => (l.bar_code && l.bar_code === code) || l.gcode === code;
  if (openReturnId && RETURN_ID.test(norm(openReturnId))) {
    const rec = await db.getReturn(norm(openReturnId));
    const line = rec && rec.lines.find(isProduct);
    if (line) return answer('product', code, rec, lineOf(line));
  }
  const byWaybill = await db.returnsByWaybill(code);
  if (byWaybill.length) {
    const open = byWaybill.find((r) => OPEN.includes(r.state)) || byWaybill[0];
    return answer('waybill', code, open);
  }
  const places = await localPlaces();
  const bin = places.bins.find((b) => norm(b.code) === upper);
  if (bin) return binAnswer(bin, places.warehouse);
  if (!openReturnId) {
    for (const rec of await db.allReturns()) {
      const line = rec.lines.find((l) => l.bar_code && l.bar_code !== '无' && l.bar_code === code);
      if (line) return { kind: 'product', id: code, return: null, bin: null, line: lineOf(line), next_actions: [], offline: true };
    }
  }
  return null;
}

// Steps applied on the device -----------------------------------------------------------------

const STEP = /^\/returns\/([^/]+)\/(receive|sort|inspect|restock|dispose)$/;

/** The return and step an outbox action is about, or null. */
export function stepOf(op) {
  const m = STEP.exec(op?.path || '');
  return m ? { id: decodeURIComponent(m[1]).toUpperCase(), step: m[2] } : null;
}

function nextActions(r) {
  switch (r.state) {
    case 'declared': return ['receive'];
    case 'received': return ['sort', 'print_label'];
    case 'sorted': return ['inspect', 'print_label'];
    case 'inspected': {
      const next = [];
      if (!r.late && r.lines.some((l) => (l.restockable || 0) > 0)) next.push('restock');
      if (r.lines.some((l) => (l.unsettled || 0) > 0)) next.push('dispose');
      next.push('print_label');
      return next;
    }
    case 'held': return ['view', 'print_label'];
    default: return ['view'];
  }
}

const GRADES = ['intact', 'damaged_packaging', 'used', 'defective', 'not_original'];

/** Changes `r` as the server would if `step` with `body` is accepted; false when it would not
 *  apply in the state the copy has (the server will say why). */
function stepOn(r, step, body, at) {
  const line = (gnum) => r.lines.find((l) => Number(l.gnum) === Number(gnum));
  switch (step) {
    case 'receive':
      if (r.state !== 'declared') return false;
      r.state = 'received';
      r.received_at = at;
      r.warehouse = body.warehouse || r.warehouse;
      r.late = Boolean(r.arrival_deadline) && Date.parse(at) > Date.parse(r.arrival_deadline);
      for (const l of r.lines) l.in_warehouse = l.qty;
      return true;
    case 'sort': {
      if (r.state !== 'received') return false;
      const counted = {};
      for (const it of body.items || []) {
        const l = it.gnum !== undefined && it.gnum !== null ? line(it.gnum)
          : r.lines.find((x) => (x.bar_code && x.bar_code === it.code) || x.gcode === it.code);
        if (l) counted[l.gnum] = (counted[l.gnum] || 0) + Number(it.qty || 0);
      }
      let discrepancy = (body.unmatched || []).length > 0;
      for (const l of r.lines) {
        const n = counted[l.gnum] || 0;
        if (n !== l.qty) discrepancy = true;
        l.sorted = Math.min(n, l.qty);
        l.in_warehouse = l.sorted;
        l.unsettled = l.sorted;
      }
      r.discrepancy = discrepancy;
      r.discrepancies = (body.unmatched || []).map((u) => ({ code: u.code, qty: u.qty }));
      r.bin = body.bin;
      r.state = 'sorted';
      r.whereabouts = [{ place: 'sorting', bin: body.bin, qty: r.lines.reduce((a, l) => a + l.sorted, 0) }];
      return true;
    }
    case 'inspect': {
      if (r.state !== 'sorted') return false;
      for (const g of body.lines || []) {
        const l = line(g.gnum);
        if (!l) continue;
        l.grades = Object.fromEntries(GRADES.map((k) => [k, Number(g[k] || 0)]));
        l.restockable = r.late ? 0 : Math.min(l.grades.intact - (l.restocked || 0), l.unsettled ?? l.sorted ?? 0);
      }
      r.state = 'inspected';
      return true;
    }
    case 'restock': {
      const l = line(body.gnum);
      if (r.state !== 'inspected' || !l) return false;
      const qty = Number(body.qty || 0);
      l.restocked = (l.restocked || 0) + qty;
      l.restockable = Math.max(0, (l.restockable || 0) - qty);
      l.unsettled = Math.max(0, (l.unsettled || 0) - qty);
      l.in_warehouse = Math.max(0, (l.in_warehouse || 0) - qty);
      r.whereabouts = [...(r.whereabouts || []).filter((w) => w.place !== 'sorting'),
        { place: 'restocked', bin: body.bin, qty }];
      break;
    }
    case 'dispose': {
      const l = line(body.gnum);
      if (r.state !== 'inspected' || !l) return false;
      const qty = Number(body.qty || 0);
      l.unsettled = Math.max(0, (l.unsettled || 0) - qty);
      l.restockable = Math.min(l.restockable || 0, l.unsettled);
      if (body.route === 'exit') {
        l.disposed = { exit: 0, reexport: 0, destroy: 0, ...(l.disposed || {}) };
        l.disposed.exit += qty;
        l.in_warehouse = Math.max(0, (l.in_warehouse || 0) - qty);
      } else {
        l.pending_disposal = (l.pending_disposal || 0) + qty;
      }
      break;
    }
    default:
      return false;
  }
  // Restocked or disposed of: every unit gone from the warehouse closes the return.
  if (r.lines.every((l) => (l.in_warehouse || 0) === 0)) r.state = 'closed';
  return true;
}

/**
 * Applies an outbox action (a floor step) to the copy as if the server had accepted it, and
 * marks the return as changed on this device. Resolves the return as a screen reads it, or
 * null (not a step, not in the copy, or not possible in the state the copy has).
 */
export async function applyStep(op) {
  const s = stepOf(op);
  if (!s) return null;
  const rec = await db.getReturn(s.id);
  if (!rec) return null;
  // Already applied to this record (a refresh that did not bring the return again).
  if ((rec.local_steps || []).includes(op.key)) return asView(rec);
  rec.local_steps = [...(rec.local_steps || []), op.key];
  if (!stepOn(rec, s.step, op.body || {}, op.made_at || new Date().toISOString())) return null;
  rec.next_actions = nextActions(rec);
  await db.changeReturns({ put: [rec] });
  await changed();
  return asView(rec);
}

/** An action the server has answered (accepted or refused): its mark goes, and the server's
 *  answer (a return) replaces the guess. */
export async function settleStep(op, answer) {
  const s = stepOf(op);
  if (!s) return;
  const rec = await db.getReturn(s.id);
  if (rec && rec.local_steps) {
    rec.local_steps = rec.local_steps.filter((k) => k !== op.key);
    if (!rec.local_steps.length) delete rec.local_steps;
    await db.changeReturns({ put: [rec] });
  }
  if (answer && answer.id) {
    await rememberReturn(answer);
    // The server's word on the step sent; the later steps of the parcel still waiting on the
    // device stand on top of it.
    for (const o of await pendingOps()) if (o.key !== op.key && stepOf(o)?.id === s.id) await applyStep(o);
  }
  await changed();
}

/** Reads return `id` from the server again (after a refusal: the guess made on the device is
 *  wrong) and keeps what it says; drops it when it is no longer this warehouse's. Resolves
 *  the server's view, or null. */
export async function reloadReturn(id) {
  let view = null;
  try {
    view = await get(`/returns/${encodeURIComponent(id)}`);
    if (who) await rememberReturn(view);
  } catch (err) {
    if (who && err instanceof ApiError && err.code === 'not_found') await db.changeReturns({ remove: [id] });
  }
  await changed();
  return view;
}

/** Whether an error means the server could not be asked (so the copy may answer instead). */
export function unreachable(err) {
  return err instanceof ApiError && err.transient;
}

/** How long a screen waits for the server when the device has the return itself. */
const RETURN_TIMEOUT_WITH_COPY_MS = 5000;

/**
 * A return as a screen reads it: `GET /returns/{id}` (kept in the copy), or the copy's when the
 * server cannot be reached — and the copy's too while this device has steps of it not yet sent
 * (the server does not know them yet). Throws like `get` when neither has it.
 */
export async function loadReturn(id) {
  const local = await localReturn(id).catch(() => null);
  if (local && local.local_steps && local.local_steps.length) return local;
  try {
    const r = await request('GET', `/returns/${encodeURIComponent(id)}`, { timeout: local ? RETURN_TIMEOUT_WITH_COPY_MS : undefined });
    rememberReturn(r).catch(() => {});
    return r;
  } catch (err) {
    if (local && unreachable(err)) return local;
    throw err;
  }
}
