// The return label after receiving: a preview, one big print button, then on to the next
// parcel. On a handheld with a label printer (a device setting) the server prints it: the
// screen follows the print job ("sent to printer X" or "not printed" and why) and shows the
// labels still to print, each reprinted with one tap. Without one, the label goes through the
// browser's print dialog (printed automatically once when arriving from receive).
import { h, fill } from '../dom.js';
import { t } from '../i18n/index.js';
import { get, seg, isOnline } from '../api.js';
import { say, ok } from '../feedback.js';
import { bigButton, sectionTitle } from '../components.js';
import { printLabel, returnLabelUrl } from '../print.js';
import { pref, setPref, loadDraft, saveDraft, removeLabelToPrint } from '../store.js';
import { resolveCode, routeResolved, actionHref } from '../scanflow.js';
import { navigate } from '../router.js';
import { usablePrinter, jobStatus, printOn, printQueue, queuedNote } from '../printing.js';

export default {
  title: 'label.title',
  handheld: true,
  async render(ctx) {
    const id = ctx.params.id;
    ctx.returnId = id;
    const floor = ctx.me.role === 'floor';
    const warehouse = ctx.me.warehouse;
    const printer = floor ? await usablePrinter(warehouse) : null;
    if (!ctx.alive()) return;
    let size = printer ? printer.size : pref('label.size', '100x150');
    const img = h('img', { class: 'label-preview', id: 'label-preview', alt: t('label.alt', { id }) });
    const setSize = (next) => {
      size = next;
      if (!printer) setPref('label.size', next);
      img.src = returnLabelUrl(id, size);
      for (const b of sizes.querySelectorAll('button')) b.setAttribute('aria-pressed', b.dataset.size === size ? 'true' : 'false');
    };
    // A printer's labels are the size loaded in it; the choice is the print dialog's.
    const sizes = h('div', { class: 'chips', role: 'group', 'aria-label': t('label.size'), hidden: Boolean(printer) },
      ['100x150', '60x40'].map((s) => h('button', { type: 'button', class: 'chip', 'data-size': s, onclick: () => setSize(s) }, t(`label.size_${s}`))));
    // Offline the server cannot draw the label: said plainly, not as a broken image and a red
    // error (the label is printed, or can be, once the network is back).
    const offlineNote = h('p', { class: 'muted label-offline', hidden: true, 'data-testid': 'label-offline' }, t('label.offline'));
    img.addEventListener('error', () => {
      if (!isOnline()) {
        img.hidden = true;
        offlineNote.hidden = false;
        return;
      }
      say(t('label.load_failed'), 'error');
    });
    img.addEventListener('load', () => {
      img.hidden = false;
      offlineNote.hidden = true;
    });

    const status = h('div', { 'data-testid': 'print-status-slot' });
    let queue = null;
    const watch = (job) => fill(status, jobStatus(job, { alive: ctx.alive, onSettled: () => queue && queue.refresh() }));
    // A label reprinted from the queue is followed here too; the one shown here is not listed.
    if (floor) queue = printQueue(ctx, warehouse, { hideEmpty: true, onReprint: watch, except: () => status.firstChild?.dataset.job });

    // Printed through the dialog: no longer among the labels to print of the home screen.
    const dialog = async () => {
      const done = await printLabel(returnLabelUrl(id, size), size);
      if (done) removeLabelToPrint(id);
      return done;
    };
    const print = async (e) => {
      if (!printer) {
        await dialog();
        return;
      }
      const job = await printOn(warehouse, printer.code, { label: 'return', id }, e && e.currentTarget);
      if (job && job.id) {
        watch(job);
        if (queue) queue.refresh();
      } else if (job && job.queued) {
        queuedNote(printer);
      }
    };

    fill(ctx.view,
      status,
      h('section', { class: 'card' },
        sectionTitle(t('label.title')),
        h('p', { class: 'code xl', 'data-testid': 'return-id' }, id),
        h('p', {}, t('label.stick')),
        printer ? h('p', { class: 'muted', 'data-testid': 'label-printer' }, t('label.on_printer', { printer: printer.name || printer.code })) : null,
        sizes,
        h('div', { class: 'label-frame' }, img, offlineNote),
        printer ? h('button', { type: 'button', class: 'btn secondary', 'data-action': 'print-dialog', onclick: dialog }, t('printq.dialog')) : null),
      queue);
    setSize(size);
    ctx.setActions(
      bigButton(t('label.print'), { id: 'print', 'data-action': 'print_label', onclick: print }),
      h('a', { class: 'btn big secondary', href: `#/r/${seg(id)}`, 'data-action': 'view' }, t('label.to_return')),
      h('a', { class: 'btn big secondary', href: '#/', 'data-action': 'next' }, t('label.next_parcel')));

    ctx.onScan = async (code) => {
      const res = await resolveCode(code, id);
      const same = (res.return && res.return.id === id) || (res.kind === 'return' && res.id === id);
      if (same && res.line && (res.next_actions || []).includes('sort')) {
        // Label stuck, parcel opened: the first product scanned starts sorting, counted.
        const draft = loadDraft('sort', id) || { counts: {}, unmatched: {}, bin: null };
        draft.counts[res.line.gnum] = (draft.counts[res.line.gnum] || 0) + 1;
        saveDraft('sort', id, draft);
        ok(t('sort.counted', { name: res.line.gname || res.line.gcode }));
        navigate(actionHref('sort', id));
        return true;
      }
      routeResolved(res);
      return true;
    };

    if (ctx.query.job) {
      // Printed by the server with the receive: follow it. A reload follows it again (no
      // second label: the job is the one made with the receive).
      try {
        const job = await get(`/print-jobs/${seg(ctx.query.job)}`);
        if (ctx.alive()) watch(job);
      } catch {
        say(t('print.unknown'), 'warn');
      }
    } else if (ctx.query.queued === '1' && printer) {
      // Received on the device while offline: printed once the step is sent.
      queuedNote(printer);
    } else if (ctx.query.auto === '1') {
      // Print once; a reload of this screen must not print the label again.
      history.replaceState(null, '', `#/r/${seg(id)}/label`);
      dialog();
    }
  },
};
