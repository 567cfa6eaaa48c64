// One return: id and deadline at the top, what it is, and its next actions as big buttons.
// Receiving happens here: the worker scanned the waybill, sees the parcel and the camera
// covering the dock, and confirms with one tap. Supervisors hold/release and export CEB625.
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { getAll, seg } from '../api.js';
import { pref, setPref, loadDraft, saveDraft } from '../store.js';
import { ok, say, fail } from '../feedback.js';
import { perform } from '../actions.js';
import { holdAction, holdOrRelease } from '../holds.js';
import { returnHeader, bigButton, actionLabel } from '../components.js';
import { linesPart, discrepanciesPart, disposalsPart, detailsPart, historyPart } from '../returnparts.js';
import { resolveCode, routeResolved, actionHref } from '../scanflow.js';
import { navigate } from '../router.js';
import * as places from '../places.js';
import { printLabel, returnLabelUrl } from '../print.js';
import { printerSetting, printOnReceive, devicePrinter } from '../printing.js';
import { showError, excludedDetail } from '../errors.js';
import { downloadCeb625 } from './exports.js';
import { loadReturn } from '../localcopy.js';

/** The camera chooser for receiving: the warehouse's cameras, last choice remembered. */
async function cameraField(warehouse) {
  const remembered = pref(`camera.${warehouse}`, '');
  let list = [];
  try {
    list = await places.cameras(warehouse);
  } catch {
    list = [];
  }
  let control;
  if (list.length) {
    control = select({ id: 'camera', name: 'camera', 'data-testid': 'camera' },
      list.map((c) => ({ value: c.code, label: `${c.name || c.code}${c.area ? ` · ${label('area', c.area)}` : ''}` })),
      list.some((c) => c.code === remembered) ? remembered : list[0].code);
  } else {
    control = h('input', { id: 'camera', name: 'camera', 'data-testid': 'camera', value: remembered, autocomplete: 'off' });
  }
  control.addEventListener('change', () => setPref(`camera.${warehouse}`, control.value));
  // The dock's handheld: a scanned waybill is received at once with this camera, after a few
  // seconds in which it can be undone. A setting of this device, per warehouse.
  const dock = h('input', { type: 'checkbox', id: 'dock-mode', name: 'dock', checked: dockMode(warehouse) });
  dock.addEventListener('change', () => setPref(`dock.${warehouse}`, dock.checked));
  return h('div', {},
    field(t('receive.camera'), control, t('receive.camera_hint')),
    h('label', { class: 'check big-check', for: 'dock-mode' }, dock, h('span', {}, t('receive.dock_mode', { s: UNDO_SECONDS }))));
}

/** Seconds a receive made by a scan at the dock waits, so that it can be undone. */
const UNDO_SECONDS = 4;

function dockMode(warehouse) {
  return Boolean(warehouse) && pref(`dock.${warehouse}`, false) === true;
}

async function warehouseField(me) {
  if (me.warehouse) return null;
  const list = await places.warehouses().catch(() => []);
  const control = list.length
    ? select({ id: 'receive-warehouse', name: 'warehouse' }, list.map((w) => ({ value: w.code, label: `${w.code} ${w.name || ''}` })), pref('receive.warehouse', list[0].code))
    : h('input', { id: 'receive-warehouse', name: 'warehouse', value: pref('receive.warehouse', '') });
  control.addEventListener('change', () => setPref('receive.warehouse', control.value));
  return field(t('receive.warehouse'), control);
}

/** The e-commerce enterprise or declaring agent of the return that is excluded now, or null. */
async function excludedParty(r) {
  // From the device's copy (offline): the server said who was excluded when it was taken.
  if (r.offline) return r.excluded || null;
  const parties = [['ecommerce', r.ebc], ['agent', r.agent]].filter(([, p]) => p && p.code);
  // The whole (short) list rather than one lookup per party: a party never registered is not
  // an error here, it is simply not excluded.
  const all = await getAll('/enterprises').catch(() => []);
  for (const [party, p] of parties) {
    const e = all.find((x) => x.code === p.code && x.excluded);
    // Said as the server's refusal would say it (problem member `excluded`).
    if (e) {
      return {
        party, code: e.code, name: e.name, rating: e.rating?.rating,
        since: (e.rating?.effective_from || '').slice(0, 10), reference: e.rating?.reference,
      };
    }
  }
  return null;
}

function supervisorTools(ctx, r, reload) {
  const role = ctx.me.role;
  if (role === 'floor') return null;
  const buttons = [];
  const kind = role === 'supervisor' ? holdAction(r) : null;
  if (kind) {
    buttons.push(h('button', {
      type: 'button', class: ['btn', kind === 'hold' ? 'danger' : 'primary'], 'data-action': kind,
      onclick: async (e) => {
        if (await holdOrRelease(kind, r, e.currentTarget)) reload();
      },
    }, t(`hold.${kind}`)));
  }
  buttons.push(h('button', {
    type: 'button', class: 'btn secondary', 'data-action': 'ceb625',
    onclick: (e) => downloadCeb625([r.id], e.currentTarget),
  }, t('export.ceb625_one')));
  buttons.push(h('a', { class: 'btn secondary', 'data-action': 'audit', href: `#/audit?entity=${seg(r.id)}` }, t('return.audit_trail')));
  return h('section', { class: 'card tools' }, h('div', { class: 'button-row wrap' }, buttons));
}

/** An inspected return whose units left all wait for a supervisor's disposal decision. */
function awaitsApproval(r) {
  const next = r.next_actions || [];
  return r.state === 'inspected' && !next.includes('restock') && !next.includes('dispose');
}

export default {
  title: 'return.title',
  handheld: true,
  async render(ctx) {
    const id = ctx.params.id;
    ctx.returnId = id;
    // The server's, or the device's copy of it while offline.
    const r = await loadReturn(id);
    if (!ctx.alive()) return;

    // quiet: redrawn after a refusal that was already said (no second tone and message).
    const draw = async (quiet = false) => {
      // The steps are floor work; at a desk only the label can be printed from here.
      const floor = ctx.me.role === 'floor';
      const actions = (r.next_actions || []).filter((a) => a !== 'view' && (floor || a === 'print_label'));
      const canReceive = actions.includes('receive');
      // A parcel of an excluded (失信) enterprise or agent cannot be taken in: say so at the scan,
      // and offer no "receive" (the server would refuse it).
      const excluded = canReceive ? await excludedParty(r) : null;
      const warehouse = r.warehouse || ctx.me.warehouse;
      // Excluded: nothing to take in, only where the parcel goes (no camera, no "receive").
      const receiveBox = !canReceive ? null : excluded
        ? h('section', { class: 'card receive', 'data-testid': 'receive-box' },
          h('p', { class: 'warn-card excluded', role: 'alert', 'data-testid': 'excluded' },
            t('receive.excluded', { name: excluded.name || excluded.code })))
        : h('section', { class: 'card receive', 'data-testid': 'receive-box' },
          h('h2', {}, t('receive.title')),
          h('p', {}, t('receive.check')),
          await warehouseField(ctx.me),
          warehouse ? await cameraField(warehouse) : await cameraField(pref('receive.warehouse', '') || ''),
          // This handheld's label printer (a device setting): the label is printed there.
          floor ? await printerSetting(warehouse) : null);
      if (!ctx.alive()) return;
      if (excluded && !quiet) fail(t('err.enterprise_excluded'), { detail: excludedDetail(excluded) });
      ctx.setTitle(`${r.id} · ${t('return.title')}`);
      fill(ctx.view,
        returnHeader(r),
        r.offline ? h('p', { class: 'card info-card', role: 'note', 'data-testid': 'offline-copy' }, t('offline.return_note')) : null,
        r.late ? h('p', { class: 'card warn-card', role: 'note' }, t('return.late_note')) : null,
        r.held || r.state === 'held' ? h('p', { class: 'card warn-card', role: 'note' }, t('return.held_note')) : null,
        awaitsApproval(r) ? h('p', { class: 'card warn-card', role: 'note', 'data-testid': 'awaiting-approval' }, t('return.awaiting_approval_note')) : null,
        receiveBox,
        supervisorTools(ctx, r, () => ctx.refresh()),
        linesPart(r),
        discrepanciesPart(r),
        disposalsPart(r),
        detailsPart(r),
        historyPart(r));

      const buttons = actions.filter((a) => !(a === 'receive' && excluded)).map((action) => {
        if (action === 'receive') {
          return bigButton(actionLabel('receive'), { id: 'receive', 'data-action': 'receive', onclick: (e) => { stopCountdown(); receive(e.currentTarget); } });
        }
        if (action === 'print_label') {
          return bigButton(actionLabel('print_label'), {
            class: 'secondary', 'data-action': 'print_label',
            onclick: async () => {
              await printLabel(returnLabelUrl(r.id));
            },
          });
        }
        return h('a', { class: 'btn big primary', href: actionHref(action, r.id), 'data-action': action }, actionLabel(action));
      });
      // On a handheld, a return with nothing left to do offers the way home; a desk has its menu.
      const home = floor ? [h('a', { class: 'btn big secondary', href: ctx.homeFor(ctx.me), 'data-action': 'home' }, t('nav.home'))] : [];
      ctx.setActions(...(buttons.length ? buttons : home));
    };

    // A receive started by a scan at the dock: shown with its countdown and an undo button,
    // sent when the time is up, when the worker scans on, or when the screen is left.
    let countdown = null;
    const stopCountdown = () => {
      if (!countdown) return false;
      clearInterval(countdown.timer);
      countdown.box.remove();
      countdown = null;
      return true;
    };
    // go: on to the label afterwards (not when a scan or another screen takes over).
    const flushCountdown = async (go) => (stopCountdown() ? receive(document.getElementById('receive'), { go }) : null);
    ctx.destroy = () => {
      if (countdown) flushCountdown(false);
    };
    function startCountdown() {
      let left = UNDO_SECONDS;
      const text = h('p', { class: 'countdown-text', 'aria-live': 'assertive' });
      const tick = () => { text.textContent = t('receive.auto_in', { id: r.id, s: left }); };
      const undo = bigButton(t('receive.undo'), {
        id: 'undo-receive', class: 'danger', 'data-action': 'undo-receive',
        onclick: () => {
          stopCountdown();
          say(t('receive.undone', { id: r.id }), 'info');
        },
      });
      const box = h('section', { class: 'card auto-receive', 'data-testid': 'auto-receive', role: 'status' }, text, undo);
      tick();
      ctx.view.querySelector('[data-testid=receive-box]')?.before(box);
      countdown = {
        box,
        timer: setInterval(() => {
          left -= 1;
          if (left > 0) tick();
          else flushCountdown(true);
        }, 1000),
      };
    }

    async function receive(button, { go = true } = {}) {
      const camera = document.getElementById('camera')?.value || null;
      const wh = ctx.me.warehouse || document.getElementById('receive-warehouse')?.value || r.warehouse;
      if (!wh) {
        say(t('receive.need_warehouse'), 'error');
        return;
      }
      if (camera) setPref(`camera.${wh}`, camera);
      // Printed by the server on the device's printer, in the same step (also when the step
      // waits on the device for the network and is sent later).
      const printer = ctx.me.role === 'floor' && printOnReceive(wh) ? devicePrinter(wh) : null;
      const body = printer ? { warehouse: wh, camera, printer } : { warehouse: wh, camera };
      let excludedNow = false;
      const res = await perform({
        path: `/returns/${seg(r.id)}/receive`, body, button, context: 'receive',
        label: { k: 'op.receive', v: { id: r.id } },
        okText: t('receive.done', { id: r.id }),
        onRefused: (err) => { excludedNow = err.code === 'enterprise_excluded'; },
      });
      if (!ctx.alive()) return;
      // Rated 失信 since the page was drawn: "receive" is no longer offered.
      if (!res && excludedNow) await draw(true);
      if (!res) return false;
      if (res.data && res.data.late) say(t('receive.done_late', { id: r.id }), 'warn');
      if (res.data) Object.assign(r, res.data);
      // The label: watched on its way to the printer, waiting for the step to be sent, or
      // printed from the browser.
      const job = res.data && res.data.print_job;
      let label = `#/r/${seg(r.id)}/label?auto=1`;
      if (job) label = `#/r/${seg(r.id)}/label?job=${seg(job.id)}`;
      else if (printer && res.state === 'queued') label = `#/r/${seg(r.id)}/label?queued=1`;
      // Received on this device while offline, no printer: the label is made by the server, so
      // it is printed from this screen once the network is back; the parcel goes on meanwhile.
      else if (res.state === 'queued') label = `#/r/${seg(r.id)}`;
      if (go && ctx.alive()) navigate(label);
      return label;
    }

    ctx.onScan = async (code) => {
      // Scanning on during the countdown: the parcel is taken in first, then the scan counts.
      const received = countdown ? await flushCountdown(false) : null;
      if (received === false) return true;
      const res = await resolveCode(code, r.id);
      const sameReturn = (res.return && res.return.id === r.id) || (res.kind === 'return' && res.id === r.id);
      if (res.line && sameReturn && (r.next_actions || []).includes('sort')) {
        // A product scanned on the return screen starts sorting with that item counted.
        const draft = loadDraft('sort', r.id) || { counts: {}, unmatched: {}, bin: null };
        draft.counts[res.line.gnum] = (draft.counts[res.line.gnum] || 0) + 1;
        saveDraft('sort', r.id, draft);
        ok(t('sort.counted', { name: res.line.gname || res.line.gcode }));
        // Just received by this scan: its label is printed first, sorting goes on from there.
        navigate(typeof received === 'string' && received.includes('/label') ? received : actionHref('sort', r.id));
        return true;
      }
      if (res.kind === 'bin' && res.bin && res.bin.area === 'restock' && (r.next_actions || []).includes('restock')) {
        ok(t('scan.bin_restock', { bin: res.bin.code }));
        navigate(actionHref('restock', r.id, res.bin.code));
        return true;
      }
      if (sameReturn && !res.line) {
        ok(t('scan.same_return', { id: r.id }));
        ctx.refresh();
        return true;
      }
      routeResolved(res);
      return true;
    };

    await draw();
    if (ctx.query.scanned === '1') {
      // Once: a reload of this screen must not start receiving again.
      history.replaceState(null, '', `#/r/${seg(r.id)}`);
      const warehouse = ctx.me.warehouse;
      const camera = document.getElementById('camera')?.value;
      if (ctx.me.role === 'floor' && camera && dockMode(warehouse) && document.getElementById('receive')) startCountdown();
    }
  },
};
