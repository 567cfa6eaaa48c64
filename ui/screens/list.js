// A handheld list of this warehouse's returns at one step, for when there is nothing to scan.
import { h, fill } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, seg } from '../api.js';
import { daysLeftText, urgency, returnBadges } from '../format.js';
import { showError } from '../errors.js';
import { navigate, hashWith } from '../router.js';
import { localList } from '../localcopy.js';

const STATES = ['declared', 'received', 'sorted', 'inspected', 'held'];

function row(r) {
  return h('li', {},
    h('a', { class: 'row-link tall', href: `#/r/${seg(r.id)}`, 'data-testid': `return-${r.id}` },
      h('span', { class: 'row-main' },
        h('span', { class: 'code lg' }, r.id),
        returnBadges(r)),
      h('span', { class: 'row-sub' },
        h('span', { class: 'code' }, r.logistics_no || ''),
        h('span', {}, r.ebc?.name || ''),
        r.received_at
          ? h('span', { class: r.late ? 'overdue' : 'muted' }, t(r.late ? 'return.arrived_late' : 'return.arrived_in_time'))
          : h('strong', { class: urgency(r.days_left) }, daysLeftText(r.days_left)))));
}

export default {
  title: 'nav.list',
  handheld: true,
  async render(ctx) {
    const state = STATES.includes(ctx.query.state) ? ctx.query.state : 'received';
    const chips = h('div', { class: 'chips', role: 'group', 'aria-label': t('list.filter') }, STATES.map((s) =>
      h('button', {
        type: 'button', class: ['chip', s === state ? 'on' : null], 'aria-pressed': s === state ? 'true' : 'false',
        'data-state': s, onclick: () => navigate(hashWith('/list', { state: s }), { replace: true }),
      }, t(`home.step_${s}`))));
    const list = h('ul', { class: 'link-list', id: 'return-list' });
    const more = h('button', { type: 'button', class: 'btn big secondary', 'data-action': 'more', hidden: true }, t('common.more'));
    fill(ctx.view, h('h1', {}, t('list.title', { state: label('state', state) })), chips, list, more);

    let cursor = null;
    async function load() {
      more.disabled = true;
      try {
        const page = await get('/returns', { state, warehouse: ctx.me.warehouse, cursor, limit: 30 });
        if (!ctx.alive()) return;
        list.append(...page.items.map(row));
        if (!list.childElementCount) list.append(h('li', { class: 'empty' }, t('common.empty')));
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (err) {
        // Offline: the device's copy of this warehouse's open returns at that step.
        if (err.code !== 'network' || cursor || list.childElementCount) {
          showError(err);
          return;
        }
        const local = await localList(state).catch(() => []);
        if (!ctx.alive()) return;
        list.append(h('li', { class: 'muted' }, t('offline.list_note')), ...local.map(row));
        if (!local.length) list.append(h('li', { class: 'empty' }, t('common.empty')));
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener('click', load);
    await load();
  },
};
