// Labels straight to the printer. Which printer this handheld prints on, and whether a receive
// prints its label there, is a setting of the device (per warehouse, beside the dock setting).
// The server sends the label itself and retries; the screens watch the print job until the
// printer has the label, say so (or why not) with sound and vibration, and show the labels
// still to print as a queue where one tap reprints one. Where no printer is registered or
// chosen, labels go through the browser's print dialog (print.js) as before.
import { h, fill, field, select } from './dom.js';
import { t, label } from './i18n/index.js';
import { get, seg, ApiError } from './api.js';
import { pref, setPref } from './store.js';
import { ok, fail, say } from './feedback.js';
import { showError } from './errors.js';
import { perform } from './actions.js';
import { bigButton, sectionTitle } from './components.js';
import { printLabel, returnLabelUrl, binLabelUrl, itemLabelUrl } from './print.js';
import * as places from './places.js';

/** The printer this device prints on in `warehouse` ('' for the browser's print dialog). */
export function devicePrinter(warehouse) {
  return (warehouse && pref(`printer.${warehouse}`, '')) || '';
}

export function setDevicePrinter(warehouse, code) {
  setPref(`printer.${warehouse}`, code || null);
}

/** Whether a receive on this device prints its label on the device's printer. */
export function printOnReceive(warehouse) {
  return Boolean(devicePrinter(warehouse)) && pref(`print_on_receive.${warehouse}`, true) !== false;
}

/** The device's printer, when it is still registered and in service (else null). */
export async function usablePrinter(warehouse) {
  const code = devicePrinter(warehouse);
  if (!code) return null;
  const list = await places.printers(warehouse).catch(() => []);
  return list.find((p) => p.code === code && p.enabled) || null;
}

/** The printer chooser of the receive box: this device's printer and "print on receive". */
export async function printerSetting(warehouse) {
  if (!warehouse) return null;
  const list = await places.printers(warehouse).catch(() => []);
  // No printer registered: labels go through the print dialog, nothing to choose.
  if (!list.length) return null;
  const current = devicePrinter(warehouse);
  const known = list.some((p) => p.code === current && p.enabled);
  if (current && !known) setDevicePrinter(warehouse, null);
  const control = select({ id: 'printer', name: 'printer', 'data-testid': 'printer' },
    [{ value: '', label: t('printer.none') },
      ...list.filter((p) => p.enabled).map((p) => ({ value: p.code, label: `${p.name || p.code} · ${label('area', p.area)}` }))],
    known ? current : '');
  const auto = h('input', {
    type: 'checkbox', id: 'print-on-receive', name: 'print_on_receive',
    checked: known && printOnReceive(warehouse), disabled: !known,
  });
  control.addEventListener('change', () => {
    setDevicePrinter(warehouse, control.value);
    auto.disabled = !control.value;
    auto.checked = Boolean(control.value) && pref(`print_on_receive.${warehouse}`, true) !== false;
  });
  auto.addEventListener('change', () => setPref(`print_on_receive.${warehouse}`, auto.checked));
  return h('div', { class: 'printer-setting', 'data-testid': 'printer-setting' },
    field(t('printer.device'), control, t('printer.device_hint')),
    h('label', { class: 'check big-check', for: 'print-on-receive' }, auto, h('span', {}, t('printer.on_receive'))));
}

/** Why a label was not printed, in words. */
export function reasonText(job) {
  return job.error ? label('print.error', job.error) : '';
}

/** What a job's state means for the worker, in one sentence. */
export function jobText(job) {
  const printer = job.printer_name || job.printer;
  switch (job.state) {
    case 'sent': return t('print.sent', { printer });
    case 'failed': return t('print.failed', { printer, reason: reasonText(job) });
    case 'cancelled': return t('print.cancelled');
    default:
      return job.error
        ? t('print.retrying', { printer, reason: reasonText(job) })
        : t('print.sending', { printer });
  }
}

/** A job is settled when the printer has the label or a person must act. */
function settled(job) {
  return job.state === 'sent' || job.state === 'failed' || job.state === 'cancelled';
}

/**
 * Follows a print job until it is settled (or `alive()` turns false), calling `onChange(job)`
 * whenever it changed. Resolves with the last job seen.
 */
export async function watchJob(id, { alive, onChange }) {
  let last = null;
  for (;;) {
    if (!alive()) return last;
    try {
      const job = await get(`/print-jobs/${seg(id)}`);
      if (!last || job.state !== last.state || job.error !== last.error || job.attempts !== last.attempts) {
        last = job;
        onChange(job);
      }
      if (settled(job)) return job;
    } catch (err) {
      // Lost the network for a moment: the server goes on printing; look again.
      if (!(err instanceof ApiError) || !err.transient) return last;
    }
    await new Promise((resolve) => { setTimeout(resolve, 1000); });
  }
}

/** Reprints `job` now, on this device's printer when it has a usable one (else the job's). */
async function reprint(job, button) {
  const mine = await usablePrinter(job.warehouse);
  const res = await perform({
    path: `/print-jobs/${seg(job.id)}/retry`, body: mine ? { printer: mine.code } : {}, button,
    context: 'print', label: { k: 'op.reprint', v: { id: job.label_id } },
    okText: t('printq.resent', { id: job.label_id, printer: mine ? (mine.name || mine.code) : job.printer_name }),
  });
  return res && res.state === 'done' ? res.data : null;
}

/** Says how a job ended, with the tones: the success tone once the printer has the label, the
 *  error tone when it is not printed (said once while the server keeps trying). */
function announcer() {
  let warned = false;
  return (j) => {
    if (j.state === 'sent') {
      ok(jobText(j));
    } else if (j.state === 'failed' || (j.error && !warned)) {
      warned = true;
      fail(t('print.not_printed'), { detail: t('print.reason', { reason: reasonText(j) }) });
    }
  };
}

/**
 * The status box of one print job (#print-status): what became of the label, in words, and a
 * big reprint button while it is not printed.
 */
export function jobStatus(job, { alive, onSettled } = {}) {
  const text = h('p', { class: 'print-status-text' });
  const again = bigButton(t('printq.reprint'), {
    'data-action': 'reprint', 'data-job': String(job.id), hidden: true,
    onclick: async (e) => {
      const next = await reprint(job, e.currentTarget);
      if (next) follow(next);
    },
  });
  const box = h('section', { class: 'card print-status', id: 'print-status', role: 'status', 'aria-live': 'polite' }, text, again);
  const show = (j) => {
    box.dataset.state = j.state;
    box.dataset.job = String(j.id);
    const trouble = j.state === 'failed' || Boolean(j.error && j.state !== 'sent' && j.state !== 'cancelled');
    box.classList.toggle('error', trouble);
    box.classList.toggle('ok', j.state === 'sent');
    text.textContent = jobText(j);
    again.hidden = !trouble;
  };
  function follow(j) {
    show(j);
    if (!alive) return;
    const tell = announcer();
    if (settled(j)) {
      tell(j);
      if (onSettled) onSettled(j);
      return;
    }
    watchJob(j.id, { alive, onChange: (x) => { show(x); tell(x); } })
      .then((x) => { if (x && settled(x) && onSettled) onSettled(x); });
  }
  follow(job);
  return box;
}

/** Sends a label to the device's printer; resolves with the new job, or null when refused. */
export async function printOn(warehouse, printer, body, button) {
  const res = await perform({
    path: `/warehouses/${seg(warehouse)}/printers/${seg(printer)}/jobs`, body, button, context: 'print',
    label: { k: 'op.print', v: { id: body.id, printer } },
  });
  if (!res) return null;
  return res.state === 'done' ? res.data : { queued: true };
}

/** The browser's print dialog for a job's label (the fallback). */
function dialogFor(job) {
  if (job.label === 'bin') return printLabel(binLabelUrl(job.warehouse, job.label_id, job.size || '60x40'), job.size || '60x40');
  if (job.label === 'item') return printLabel(itemLabelUrl(job.label_id, job.gnum, job.size || '100x150'), job.size || '100x150');
  return printLabel(returnLabelUrl(job.label_id, job.size || '100x150'), job.size || '100x150');
}

/**
 * The print queue of a warehouse: labels still to print (waiting, being sent, or not printed),
 * each with a big reprint button. Refreshes itself while `ctx` is on screen; `hideEmpty` leaves
 * nothing on the page when the queue is empty; `onReprint(job)` hears of each reprint; the
 * job `except()` names (one the screen shows on its own) is left out.
 */
export function printQueue(ctx, warehouse, { hideEmpty = false, onReprint = null, except = null } = {}) {
  const list = h('ul', { class: 'print-queue-list' });
  const title = h('div');
  const empty = h('p', { class: 'empty' }, t('printq.empty'));
  const box = h('section', { class: 'card print-queue', 'data-testid': 'print-queue', 'data-count': '0', 'aria-live': 'polite' },
    title, list, empty);
  box.hidden = hideEmpty;
  let timer = null;
  const draw = (jobs) => {
    box.dataset.count = String(jobs.length);
    box.hidden = hideEmpty && !jobs.length;
    fill(title, sectionTitle(t('printq.title', { n: jobs.length })));
    empty.hidden = jobs.length > 0;
    fill(list, jobs.map((j) => item(j)));
  };
  const item = (j) => {
    const again = bigButton(t('printq.reprint'), {
      'data-action': 'reprint', 'data-job': String(j.id),
      onclick: async (e) => {
        const next = await reprint(j, e.currentTarget);
        if (!next) return;
        refresh();
        if (onReprint) {
          onReprint(next);
        } else {
          // Heard when the printer has it (or why not), and the queue drawn again then.
          const tell = announcer();
          watchJob(next.id, { alive: ctx.alive, onChange: tell }).then(() => refresh());
        }
      },
    });
    const dialog = h('button', {
      type: 'button', class: 'btn secondary', 'data-action': 'print-dialog', 'data-job': String(j.id),
      onclick: () => dialogFor(j),
    }, t('printq.dialog'));
    const drop = h('button', {
      type: 'button', class: 'btn ghost', 'data-action': 'cancel-print', 'data-job': String(j.id),
      onclick: async (e) => {
        const res = await perform({
          path: `/print-jobs/${seg(j.id)}/cancel`, body: { reason: t('printq.cancel_reason') }, button: e.currentTarget,
          context: 'print', label: { k: 'op.cancel_print', v: { id: j.label_id } }, okText: t('printq.cancelled', { id: j.label_id }),
        });
        if (res) refresh();
      },
    }, t('printq.cancel'));
    return h('li', { class: ['print-job', j.state === 'failed' || j.error ? 'error' : ''], 'data-job': String(j.id), 'data-state': j.state, 'data-testid': `print-job-${j.id}` },
      h('div', { class: 'print-job-head' },
        h('span', { class: 'code lg' }, j.label === 'item' ? `${j.label_id} · ${j.gnum}` : j.label_id),
        h('span', { class: 'tag' }, label('print.label', j.label))),
      h('p', { class: 'print-job-text' }, jobText(j)),
      again,
      h('div', { class: 'button-row' }, dialog, drop));
  };
  async function refresh() {
    clearTimeout(timer);
    if (!ctx.alive()) return;
    let again = true;
    try {
      const page = await get('/print-jobs', { state: 'open', warehouse, limit: 20 });
      if (!ctx.alive()) return;
      const skip = except ? String(except() || '') : '';
      const jobs = (page.items || []).filter((j) => String(j.id) !== skip);
      draw(jobs);
      // A warehouse without printers has nothing to watch (its labels go through the dialog).
      if (!jobs.length) again = (await places.printers(warehouse).catch(() => [null])).length > 0;
    } catch (err) {
      if (!(err instanceof ApiError) || !err.transient) {
        showError(err, 'print');
        again = false;
      }
    }
    if (again && ctx.alive()) timer = setTimeout(refresh, 3000);
  }
  box.refresh = refresh;
  refresh();
  return box;
}

/** Says, for a receive kept on the device (offline), where its label will be printed. */
export function queuedNote(printer) {
  say(t('print.after_sending', { printer: printer.name || printer.code }), 'warn');
}
