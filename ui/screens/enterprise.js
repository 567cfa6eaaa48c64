// One enterprise and its credit rating history. Setting a rating first asks the server for a
// dry run and shows its effect ("3 returns in the warehouse will go on hold") before saving.
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, getAll, seg, request } from '../api.js';
import { fmtTime, localToRfc3339 } from '../format.js';
import { perform } from '../actions.js';
import { confirmDialog } from '../dialog.js';
import { showError, markFields } from '../errors.js';
import { table, sectionTitle, fact } from '../components.js';
import { ratingBadge } from './enterprises.js';

export const RATINGS = ['advanced_certified', 'certified', 'regular', 'dishonest', 'seriously_dishonest', 'general_certified', 'general_credit'];
const EXCLUDING = ['dishonest', 'seriously_dishonest'];

function effectText(effect) {
  const n = effect?.returns_put_on_hold || 0;
  const blocked = effect?.warehouses_blocked || [];
  const lines = [n ? t('rating.effect_holds', { n }) : t('rating.effect_no_holds')];
  if (blocked.length) lines.push(t('rating.effect_blocked', { list: blocked.join('、') }));
  return lines;
}

export default {
  title: 'nav.enterprises',
  roles: ['admin', 'supervisor'],
  async render(ctx) {
    const code = ctx.params.code;
    const [ent, ratings] = await Promise.all([get(`/enterprises/${seg(code)}`), getAll(`/enterprises/${seg(code)}/ratings`)]);
    if (!ctx.alive()) return;

    const history = table([
      { title: t('enterprise.rating'), render: (r) => h('span', { class: ['badge', EXCLUDING.includes(r.rating) ? 'rating-excluded' : 'rating-ok'] }, label('rating', r.rating)) },
      { title: t('enterprise.effective_from'), render: (r) => fmtTime(r.effective_from) },
      { title: t('rating.reference'), render: (r) => h('span', { class: 'code' }, r.reference || '—') },
      { title: t('rating.recorded'), render: (r) => `${r.recorded_by || '—'} · ${fmtTime(r.recorded_at)}` },
    ], ratings, { empty: t('enterprise.no_rating') });

    let form = null;
    if (ctx.me.role === 'admin') {
      const button = h('button', { type: 'submit', class: 'btn primary', id: 'rating-save', 'data-action': 'rating' }, t('rating.save'));
      form = h('form', {
        class: 'card form-grid', id: 'rating-form',
        onsubmit: async (e) => {
          e.preventDefault();
          const fd = new FormData(form);
          const body = {
            rating: fd.get('rating'),
            reference: String(fd.get('reference')).trim(),
          };
          // Left empty, the rating takes effect now (the server's default).
          const from = localToRfc3339(String(fd.get('effective_from') || ''));
          if (from) body.effective_from = from;
          button.disabled = true;
          let dry;
          try {
            dry = await request('POST', `/enterprises/${seg(code)}/ratings`, { body, query: { dry_run: 'true' } });
            markFields(form, null);
          } catch (err) {
            showError(err);
            markFields(form, err);
            return;
          } finally {
            button.disabled = false;
          }
          const yes = await confirmDialog({
            title: t('rating.confirm_title', { name: ent.name, rating: label('rating', body.rating) }),
            body: h('div', { 'data-testid': 'rating-effect' }, effectText(dry?.effect).map((line) => h('p', {}, line))),
            okText: t('rating.save'),
            danger: EXCLUDING.includes(body.rating),
          });
          if (!yes) return;
          const res = await perform({
            path: `/enterprises/${seg(code)}/ratings`, body, form, button,
            label: { k: 'op.rating', v: { code, rating: label('rating', body.rating) } },
            okText: t('rating.saved', { name: ent.name }),
          });
          if (res) ctx.refresh();
        },
      },
      sectionTitle(t('rating.new')),
      field(t('enterprise.rating'), select({ id: 'rating', name: 'rating', required: true }, RATINGS.map((r) => ({ value: r, label: label('rating', r) })), 'regular')),
      field(t('enterprise.effective_from'), h('input', { id: 'effective-from', name: 'effective_from', type: 'datetime-local' }), t('rating.effective_hint')),
      field(t('rating.reference'), h('input', { id: 'rating-reference', name: 'reference', required: true, autocomplete: 'off' }), t('rating.reference_hint')),
      h('div', { class: 'filter-buttons' }, button));
    }

    fill(ctx.view,
      h('p', {}, h('a', { href: '#/admin/enterprises' }, `← ${t('nav.enterprises')}`)),
      h('h1', {}, ent.name, ' ', ratingBadge(ent.rating, ent.excluded)),
      h('section', { class: 'card' }, h('dl', { class: 'facts' },
        fact(t('enterprise.code'), ent.code, 'code'),
        fact(t('enterprise.kinds'), (ent.kinds || []).map((k) => label('kind_enterprise', k)).join('、')),
        fact(t('enterprise.excluded'), ent.excluded ? t('common.yes') : t('common.no')))),
      ent.excluded ? h('p', { class: 'card warn-card' }, t('enterprise.excluded_note')) : null,
      h('section', { class: 'card' }, sectionTitle(t('rating.history')), history),
      form);
  },
};
