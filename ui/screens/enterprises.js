// Enterprises: the list with their current rating, and creating one with its kinds.
import { h, fill, field } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { getAll, seg } from '../api.js';
import { fmtDate } from '../format.js';
import { perform } from '../actions.js';
import { table, sectionTitle } from '../components.js';
import { fail } from '../feedback.js';

export const KINDS = ['platform', 'ecommerce', 'agent', 'logistics', 'warehouse_operator'];

export function ratingBadge(rating, excluded) {
  if (!rating) return h('span', { class: 'badge rating-none' }, t('enterprise.no_rating'));
  return h('span', { class: ['badge', excluded ? 'rating-excluded' : 'rating-ok'], 'data-rating': rating.rating },
    label('rating', rating.rating));
}

export default {
  title: 'nav.enterprises',
  roles: ['admin', 'supervisor'],
  async render(ctx) {
    const items = await getAll('/enterprises');
    if (!ctx.alive()) return;
    const isAdmin = ctx.me.role === 'admin';

    const list = table([
      { title: t('enterprise.code'), render: (e) => h('a', { href: `#/admin/enterprises/${seg(e.code)}`, class: 'code' }, e.code) },
      { title: t('enterprise.name'), render: (e) => e.name },
      { title: t('enterprise.kinds'), render: (e) => (e.kinds || []).map((k) => label('kind_enterprise', k)).join('、') },
      { title: t('enterprise.rating'), render: (e) => ratingBadge(e.rating, e.excluded) },
      { title: t('enterprise.effective_from'), render: (e) => (e.rating ? fmtDate(e.rating.effective_from) : '—') },
    ], items, { rowAttrs: (e) => ({ 'data-testid': `enterprise-${e.code}`, class: e.excluded ? 'row-excluded' : null }) });

    let form = null;
    if (isAdmin) {
      const kinds = h('fieldset', { class: 'checks' }, h('legend', {}, t('enterprise.kinds')),
        KINDS.map((k) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'kinds', value: k }), label('kind_enterprise', k))));
      const button = h('button', { type: 'submit', class: 'btn primary', id: 'enterprise-create', 'data-action': 'create' }, t('common.create'));
      form = h('form', {
        class: 'card form-grid', id: 'enterprise-form',
        onsubmit: async (e) => {
          e.preventDefault();
          const fd = new FormData(form);
          const body = { code: String(fd.get('code')).trim(), name: String(fd.get('name')).trim(), kinds: fd.getAll('kinds') };
          if (!body.kinds.length) {
            fail(t('enterprise.need_kind'));
            return;
          }
          const res = await perform({
            path: '/enterprises', body, form, button,
            label: { k: 'op.enterprise_create', v: { code: body.code } }, okText: t('enterprise.created', { name: body.name }),
          });
          if (res) ctx.refresh();
        },
      },
      sectionTitle(t('enterprise.new')),
      field(t('enterprise.code'), h('input', { name: 'code', id: 'enterprise-code', required: true, maxlength: 18, autocomplete: 'off', spellcheck: 'false' }), t('enterprise.code_hint')),
      field(t('enterprise.name'), h('input', { name: 'name', id: 'enterprise-name', required: true, maxlength: 100 })),
      kinds,
      h('div', { class: 'filter-buttons' }, button));
    }

    fill(ctx.view, h('h1', {}, t('nav.enterprises')), list, form);
  },
};
