// Pieces shared by the screens: the return header (id and deadline always visible),
// big +/− counters, next-action buttons and a simple loading state.
import { h } from './dom.js';
import { t, label } from './i18n/index.js';
import { fmtTime, fmtDate, daysLeftText, urgency, returnBadges } from './format.js';

/**
 * The header of every return screen: id in large type, state, and the 45-day arrival limit
 * with the days left (the server's days_left counts to that limit). compact: the step screens
 * (sort, inspect, restock, dispose) keep only the waybill under it, so the work fits a handheld.
 */
export function returnHeader(r, { compact = false } = {}) {
  const idRow = h('div', { class: 'return-id-row' },
    h('span', { class: 'code xl', id: 'return-id', 'data-testid': 'return-id' }, r.id),
    returnBadges(r));
  // The 45-day limit counts until the parcel arrives; after that, when it arrived says more.
  const arrived = Boolean(r.received_at);
  const daysLeft = h('span', { class: 'days-left' },
    arrived ? t(r.late ? 'return.arrived_late' : 'return.arrived_in_time') : daysLeftText(r.days_left));
  const when = (at) => (arrived
    ? t('return.arrived_at', { at: fmtTime(r.received_at), limit: fmtDate(r.arrival_deadline) })
    : t('return.arrival_deadline', { at }));
  const tone = arrived ? (r.late ? 'overdue' : '') : urgency(r.days_left);
  if (compact) {
    // Step screens scroll long lists under it: one short block that stays in view.
    return h('section', { class: 'return-header compact', 'data-testid': 'return-header', 'aria-label': t('return.header') },
      idRow,
      h('div', { class: ['deadline', tone], id: 'deadline', 'data-testid': 'deadline' },
        daysLeft,
        arrived ? null : h('span', {}, when(fmtDate(r.arrival_deadline))),
        h('span', { class: 'waybill' }, h('span', { class: 'muted' }, t('return.logistics_no')), ' ', h('span', { class: 'code' }, r.logistics_no))));
  }
  return h('section', { class: 'return-header', 'data-testid': 'return-header', 'aria-label': t('return.header') },
    idRow,
    h('div', { class: ['deadline', tone], id: 'deadline', 'data-testid': 'deadline' },
      daysLeft,
      h('span', {}, when(fmtTime(r.arrival_deadline)))),
    h('dl', { class: 'facts' },
      fact(t('return.logistics_no'), r.logistics_no, 'code'),
      fact(t('return.invt_no'), r.invt_no, 'code'),
      r.ebc ? fact(t('return.ebc'), r.ebc.name || r.ebc.code) : null,
      goodsFact(r)));
}

/**
 * Where the return's goods are now: once anything is settled, each shelf, the sorting bin,
 * the exit area or gone, with its units; before that, the bin the parcel is in.
 */
function goodsFact(r) {
  const where = r.whereabouts || [];
  const settled = where.some((w) => w.place !== 'sorting');
  if (!settled) return r.bin ? fact(t('return.bin'), r.bin, 'code') : null;
  return h('div', { class: 'fact wide', 'data-testid': 'whereabouts' },
    h('dt', {}, t('return.goods_now')),
    h('dd', {}, h('ul', { class: 'whereabouts' }, where.map((w) => h('li', { 'data-place': w.place, 'data-bin': w.bin || null },
      w.bin ? [h('span', { class: 'code' }, w.bin), ' '] : null,
      t(`whereabouts.${w.place}`, { n: w.qty }))))));
}

export function fact(term, value, cls) {
  return h('div', { class: 'fact' }, h('dt', {}, term), h('dd', { class: cls || null }, value ?? '—'));
}

/**
 * A big − value + counter. onChange(next) is called with the new value, already kept
 * within [min, max]. testid names the value for tests: data-testid="count-<testid>".
 */
export function counter({ value, min = 0, max = Infinity, onChange, name, testid }) {
  const out = h('output', { class: 'count', 'data-testid': testid ? `count-${testid}` : null, 'aria-live': 'polite' }, String(value));
  const dec = h('button', {
    type: 'button', class: 'btn step', 'data-action': 'dec', 'data-testid': testid ? `dec-${testid}` : null,
    'aria-label': t('common.decrease', { name }), disabled: value <= min,
    onclick: () => onChange(Math.max(min, value - 1)),
  }, '−');
  const inc = h('button', {
    type: 'button', class: 'btn step', 'data-action': 'inc', 'data-testid': testid ? `inc-${testid}` : null,
    'aria-label': t('common.increase', { name }), disabled: value >= max,
    onclick: () => onChange(Math.min(max, value + 1)),
  }, '+');
  return h('div', { class: 'counter', role: 'group', 'aria-label': name }, dec, out, inc);
}

/** A full-width button for the bottom action bar. */
export function bigButton(text, attrs = {}) {
  return h('button', { type: 'button', ...attrs, class: ['btn big', attrs.class || 'primary'] }, text);
}

/** The next-action buttons of a return; known actions only, in the server's order. */
export function actionLabel(action) {
  return label('action', action);
}

export function loading() {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

/** A line's title: name, item number and codes, in the large type used on the floor. */
export function lineTitle(line) {
  return h('div', { class: 'line-title' },
    h('span', { class: 'gname' }, line.gname || line.gcode),
    h('span', { class: 'line-codes' },
      h('span', { class: 'tag' }, t('line.gnum', { n: line.gnum })),
      line.gcode ? h('span', { class: 'code' }, line.gcode) : null,
      line.bar_code && line.bar_code !== '无' ? h('span', { class: 'code' }, line.bar_code) : null));
}

/** A simple key/value table (desk screens). */
export function table(columns, rows, { empty, rowAttrs } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty || t('common.empty'));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.cls || null }, c.title)))),
      h('tbody', {}, rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {},
        columns.map((c) => h('td', { class: c.cls || null, 'data-label': c.title }, c.render(row))))))));
}

export function sectionTitle(text, extra) {
  return h('div', { class: 'section-title' }, h('h2', {}, text), extra || null);
}
