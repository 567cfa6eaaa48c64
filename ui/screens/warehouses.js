// Warehouses: the list and creating one (code, name, operating enterprise, zone).
import { h, fill, field, select } from '../dom.js';
import { t } from '../i18n/index.js';
import { getAll, seg } from '../api.js';
import { perform } from '../actions.js';
import { table, sectionTitle } from '../components.js';
import * as places from '../places.js';

export default {
  title: 'nav.warehouses',
  roles: ['admin'],
  async render(ctx) {
    const [items, ents] = await Promise.all([getAll('/warehouses'), getAll('/enterprises').catch(() => [])]);
    if (!ctx.alive()) return;
    const operators = ents.filter((e) => (e.kinds || []).includes('warehouse_operator'));

    const list = table([
      { title: t('warehouse.code'), render: (w) => h('a', { href: `#/admin/warehouses/${seg(w.code)}`, class: 'code' }, w.code) },
      { title: t('warehouse.name'), render: (w) => w.name },
      { title: t('warehouse.operator'), render: (w) => w.operator || '—' },
      { title: t('warehouse.zone'), render: (w) => w.zone || '—' },
    ], items, { rowAttrs: (w) => ({ 'data-testid': `warehouse-${w.code}` }) });

    const operator = operators.length
      ? select({ id: 'warehouse-operator', name: 'operator', required: true }, operators.map((e) => ({ value: e.code, label: `${e.name} (${e.code})` })), '')
      : h('input', { id: 'warehouse-operator', name: 'operator', required: true, autocomplete: 'off' });
    const button = h('button', { type: 'submit', class: 'btn primary', id: 'warehouse-create', 'data-action': 'create' }, t('common.create'));
    const form = h('form', {
      class: 'card form-grid', id: 'warehouse-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const fd = new FormData(form);
        const body = Object.fromEntries(['code', 'name', 'operator', 'zone'].map((k) => [k, String(fd.get(k) || '').trim()]));
        const res = await perform({
          path: '/warehouses', body, form, button,
          label: { k: 'op.warehouse_create', v: { code: body.code } }, okText: t('warehouse.created', { code: body.code }),
        });
        if (res) {
          places.forget('warehouses');
          ctx.refresh();
        }
      },
    },
    sectionTitle(t('warehouse.new')),
    field(t('warehouse.code'), h('input', { id: 'warehouse-code', name: 'code', required: true, autocomplete: 'off', spellcheck: 'false' })),
    field(t('warehouse.name'), h('input', { id: 'warehouse-name', name: 'name', required: true })),
    field(t('warehouse.operator'), operator, operators.length ? null : t('warehouse.operator_hint')),
    field(t('warehouse.zone'), h('input', { id: 'warehouse-zone', name: 'zone', required: true }), t('warehouse.zone_hint')),
    h('div', { class: 'filter-buttons' }, button));

    fill(ctx.view, h('h1', {}, t('nav.warehouses')), list, form);
  },
};
