// The floor home: scan prompt, labels still to print (the printer's queue, and the labels of
// parcels received offline without a printer, for the print dialog), unfinished work on this device, this warehouse's parcels
// waiting at each step and the returns nearest their limits.
import { h, fill } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, seg } from '../api.js';
import { listDrafts, labelsToPrint, removeLabelToPrint, pref } from '../store.js';
import { fmtTime, daysLeftText, urgency } from '../format.js';
import { bigButton, sectionTitle } from '../components.js';
import { navigate } from '../router.js';
import { localStats } from '../localcopy.js';
import { printQueue } from '../printing.js';
import { printLabel, returnLabelUrl } from '../print.js';

const STEPS = ['declared', 'received', 'sorted', 'inspected', 'held'];

function draftHref(d) {
  if (d.kind === 'restock') return `#/restock${d.id ? `?return=${seg(d.id)}` : ''}`;
  return `#/r/${seg(d.id)}/${d.kind}`;
}

function draftsCard() {
  const drafts = listDrafts();
  if (!drafts.length) return null;
  return h('section', { class: 'card resume', 'data-testid': 'resume' },
    sectionTitle(t('home.resume')),
    h('ul', { class: 'link-list' }, drafts.map((d) => h('li', {},
      h('a', { class: 'row-link', href: draftHref(d), 'data-testid': `resume-${d.kind}` },
        h('span', {}, t(`home.resume_${d.kind}`)),
        h('span', { class: 'code' }, d.id || d.value.bin?.code || ''),
        h('small', { class: 'muted' }, fmtTime(d.value.saved_at)))))));
}

/**
 * Labels of parcels received offline on this device without a printer, whose receive has been
 * sent since: each printed through the browser's print dialog with one big button, or
 * dismissed. Redrawn when the outbox adds one (the network came back while on this screen).
 */
function labelsCard(ctx) {
  const box = h('section', { class: 'card labels-to-print', 'data-testid': 'labels-to-print', 'data-count': '0', 'aria-live': 'polite' });
  const item = (e) => h('li', { class: 'print-job', 'data-return': e.id },
    h('div', { class: 'print-job-head' }, h('span', { class: 'code lg' }, e.id)),
    h('p', { class: 'print-job-text' }, t('labels_todo.why')),
    bigButton(t('labels_todo.print'), {
      'data-action': 'print-label-todo', 'data-return': e.id,
      onclick: async () => {
        if (await printLabel(returnLabelUrl(e.id, pref('label.size', '100x150')), pref('label.size', '100x150'))) removeLabelToPrint(e.id);
      },
    }),
    h('button', {
      type: 'button', class: 'btn ghost', 'data-action': 'dismiss-label-todo', 'data-return': e.id,
      onclick: () => removeLabelToPrint(e.id),
    }, t('labels_todo.dismiss')));
  const draw = () => {
    const list = labelsToPrint();
    box.dataset.count = String(list.length);
    box.hidden = !list.length;
    fill(box, sectionTitle(t('labels_todo.title', { n: list.length })),
      h('ul', { class: 'print-queue-list' }, list.map(item)));
  };
  const redraw = () => {
    if (!ctx.alive()) {
      window.removeEventListener('br:labels-to-print', redraw);
      return;
    }
    draw();
  };
  window.addEventListener('br:labels-to-print', redraw);
  draw();
  return box;
}

function tiles(stats) {
  const by = stats.by_state || {};
  // Inspected returns count as work only while they have units to restock or dispose of;
  // those whose units all await a supervisor's approval are said apart.
  const count = (state) => (state === 'inspected' ? stats.to_settle ?? by.inspected : by[state]) ?? 0;
  const waiting = stats.awaiting_approval || 0;
  return h('section', { class: 'tiles', 'aria-label': t('home.work') }, STEPS.map((state) =>
    h('a', { class: `tile st-border-${state}`, href: `#/list?state=${state}`, 'data-testid': `tile-${state}` },
      h('span', { class: 'tile-count' }, String(count(state))),
      h('span', { class: 'tile-label' }, t(`home.step_${state}`)),
      state === 'inspected' && waiting
        ? h('small', { class: 'muted', 'data-testid': 'tile-awaiting-approval' }, t('home.awaiting_approval', { n: waiting }))
        : null)));
}

function nearList(stats) {
  const near = [...(stats.near_deadline || [])].sort((a, b) => a.days_left - b.days_left).slice(0, 8);
  return h('section', { class: 'card' },
    sectionTitle(t('home.near_deadline')),
    near.length
      ? h('ul', { class: 'link-list' }, near.map((n) => {
        const parts = [
          h('span', { class: 'code' }, n.id),
          h('span', {}, label('deadline', n.kind)),
          h('strong', {}, daysLeftText(n.days_left))];
        // An 'apply' entry is a released list nobody has applied for yet (its id is the invtNo):
        // there is no return to open.
        return h('li', {}, n.kind === 'arrival'
          ? h('a', { class: ['row-link', urgency(n.days_left)], href: `#/r/${seg(n.id)}`, 'data-testid': `near-${n.id}` }, parts)
          : h('div', { class: ['row-link', 'static', urgency(n.days_left)], 'data-testid': `near-${n.id}` }, parts));
      }))
      : h('p', { class: 'empty' }, t('home.nothing_near')));
}

export default {
  title: 'nav.home',
  handheld: true,
  roles: ['floor', 'supervisor', 'admin'],
  async render(ctx) {
    const warehouse = ctx.me.warehouse;
    const prompt = h('section', { class: 'card prompt' },
      h('h1', {}, t('home.scan_prompt')),
      h('p', { class: 'muted' }, t('home.scan_hint')));
    const statsSlot = h('div', { 'aria-live': 'polite' }, h('p', { class: 'loading' }, t('common.loading')));
    // Labels not printed yet (the printer was off, say), reprinted here with one tap.
    const queue = ctx.me.role === 'floor' ? printQueue(ctx, warehouse, { hideEmpty: true }) : null;
    const todo = ctx.me.role === 'floor' ? labelsCard(ctx) : null;
    fill(ctx.view, prompt, queue, todo, draftsCard(), statsSlot);
    ctx.setActions(
      bigButton(t('home.restock_by_bin'), { class: 'secondary', 'data-action': 'restock', onclick: () => navigate('#/restock') }));
    try {
      const stats = await get('/stats', { warehouse });
      if (!ctx.alive()) return;
      fill(statsSlot, tiles(stats), nearList(stats));
    } catch (err) {
      if (!ctx.alive()) return;
      // Offline: the counts of the device's copy of the warehouse's open work.
      const local = err.code === 'network' && ctx.me.role === 'floor' ? await localStats().catch(() => null) : null;
      if (!ctx.alive()) return;
      fill(statsSlot,
        h('p', { class: 'card muted' }, err.code === 'network' ? t('home.offline') : t('home.stats_unavailable')),
        local ? tiles(local) : null,
        local ? nearList(local) : null);
    }
  },
};
