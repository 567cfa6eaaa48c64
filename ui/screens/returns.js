// Return search for supervisors and admins: filter, page with "more", hold/release with a
// reason, and pick returns for a batch CEB625 export.
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, seg } from '../api.js';
import { fmtTime, daysLeftText, urgency, returnBadges } from '../format.js';
import { navigate, hashWith } from '../router.js';
import { showError } from '../errors.js';
import { holdAction, holdOrRelease } from '../holds.js';
import * as places from '../places.js';
import { downloadCeb625 } from './exports.js';

const STATES = ['declared', 'received', 'sorted', 'inspected', 'closed', 'held', 'cancelled'];

export default {
  title: 'nav.returns',
  roles: ['supervisor', 'admin'],
  async render(ctx) {
    const q = { q: ctx.query.q || '', state: ctx.query.state || '', warehouse: ctx.query.warehouse || '', ebc: ctx.query.ebc || '' };
    const [whs, ents] = await Promise.all([
      places.warehouses().catch(() => []),
      get('/enterprises', { limit: 500 }).then((p) => p.items).catch(() => []),
    ]);
    if (!ctx.alive()) return;

    const form = h('form', {
      class: 'filters card', id: 'returns-filter',
      onsubmit: (e) => {
        e.preventDefault();
        const data = Object.fromEntries(new FormData(form));
        navigate(hashWith('/returns', data));
      },
    },
    field(t('returns.q'), h('input', { name: 'q', id: 'returns-q', value: q.q, type: 'search' }), t('returns.q_hint')),
    field(t('common.state'), select({ name: 'state', id: 'returns-state' }, [{ value: '', label: t('common.any') }, ...STATES.map((s) => ({ value: s, label: label('state', s) }))], q.state)),
    field(t('common.warehouse'), select({ name: 'warehouse', id: 'returns-warehouse' }, [{ value: '', label: t('common.any') }, ...whs.map((w) => ({ value: w.code, label: `${w.code} ${w.name || ''}` }))], q.warehouse)),
    field(t('returns.ebc'), select({ name: 'ebc', id: 'returns-ebc' }, [{ value: '', label: t('common.any') },
      ...ents.filter((e) => !e.kinds || e.kinds.includes('ecommerce')).map((e) => ({ value: e.code, label: `${e.name} (${e.code})` }))], q.ebc)),
    h('div', { class: 'filter-buttons' }, h('button', { type: 'submit', class: 'btn primary', id: 'returns-search' }, t('common.search'))));

    const HEADS = ['', t('return.id'), t('common.state'), t('return.invt_no'), t('return.logistics_no'),
      t('returns.ebc'), t('common.warehouse'), t('return.received_at'), t('dash.days_left'), ''];
    const selected = new Set();
    const batch = h('button', {
      type: 'button', class: 'btn secondary', id: 'ceb625-batch', 'data-action': 'ceb625-batch', disabled: true,
      onclick: () => downloadCeb625([...selected], batch),
    }, t('export.ceb625_selected', { n: 0 }));
    const updateBatch = () => {
      batch.textContent = t('export.ceb625_selected', { n: selected.size });
      batch.disabled = !selected.size;
    };

    const tbody = h('tbody');
    const more = h('button', { type: 'button', class: 'btn secondary', 'data-action': 'more', id: 'more', hidden: true }, t('common.more'));

    function row(r) {
      const box = h('input', { type: 'checkbox', id: `sel-${r.id}`, name: 'selected', value: r.id });
      box.addEventListener('change', () => {
        if (box.checked) selected.add(r.id);
        else selected.delete(r.id);
        updateBatch();
      });
      const kind = ctx.me.role === 'supervisor' ? holdAction(r) : null;
      const cells = [
        h('td', {}, h('label', { class: 'check-cell' }, box, h('span', { class: 'visually-hidden' }, t('returns.select', { id: r.id })))),
        h('td', {}, h('a', { href: `#/r/${seg(r.id)}`, class: 'code' }, r.id)),
        h('td', {}, returnBadges(r)),
        h('td', { class: 'code' }, r.invt_no || ''),
        h('td', { class: 'code' }, r.logistics_no || ''),
        h('td', {}, r.ebc ? r.ebc.name || r.ebc.code : ''),
        h('td', {}, r.warehouse || '—'),
        h('td', {}, fmtTime(r.received_at)),
        h('td', { class: urgency(r.days_left) }, r.received_at ? '—' : daysLeftText(r.days_left)),
        h('td', {}, kind ? h('button', {
          type: 'button', class: ['btn small', kind === 'hold' ? 'danger' : 'primary'], 'data-action': kind, 'data-id': r.id,
          onclick: async (e) => {
            if (await holdOrRelease(kind, r, e.currentTarget)) ctx.refresh();
          },
        }, t(`hold.${kind}`)) : null)];
      // Column names on every cell, for the one-card-per-row layout of narrow screens.
      cells.forEach((td, i) => td.setAttribute('data-label', HEADS[i]));
      return h('tr', { 'data-testid': `row-${r.id}` }, cells);
    }

    const tableEl = h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'returns-table' },
      h('thead', {}, h('tr', {}, HEADS.map((c) => h('th', { scope: 'col' }, c)))),
      tbody));

    fill(ctx.view,
      h('div', { class: 'page-head' }, h('h1', {}, t('nav.returns')), batch),
      form, tableEl, more);

    let cursor = null;
    async function load() {
      more.disabled = true;
      try {
        const page = await get('/returns', { ...q, cursor, limit: 50 });
        if (!ctx.alive()) return;
        tbody.append(...page.items.map(row));
        if (!tbody.childElementCount) tbody.append(h('tr', {}, h('td', { colspan: 10, class: 'empty' }, t('common.empty'))));
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (err) {
        showError(err);
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener('click', load);
    await load();
  },
};
