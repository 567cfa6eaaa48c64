// Re-export and destruction requests waiting for a supervisor: approve or reject, with a reason.
import { h, fill } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { getAll, seg } from '../api.js';
import { fmtTime } from '../format.js';
import { perform } from '../actions.js';
import { promptDialog } from '../dialog.js';
import { lineTitle } from '../components.js';
import { gradeText } from '../returnparts.js';

export default {
  title: 'nav.approvals',
  roles: ['supervisor', 'admin'],
  async render(ctx) {
    const items = await getAll('/disposals', { status: 'pending_approval' });
    if (!ctx.alive()) return;

    async function decide(d, kind, button) {
      const reason = await promptDialog({
        title: t(`approvals.${kind}_title`, { route: label('route', d.route), id: d.return_id }),
        inputLabel: t('approvals.reason'),
        okText: t(`approvals.${kind}`),
        required: true, // the server records a reason for either decision
        danger: kind === 'reject',
      });
      if (reason === null) return;
      const res = await perform({
        path: `/disposals/${seg(d.id)}/${kind}`, body: { reason }, button, context: kind,
        label: { k: `op.${kind}`, v: { id: d.return_id, route: label('route', d.route) } },
        okText: t(`approvals.${kind}_done`, { id: d.return_id }),
      });
      if (res) ctx.refresh();
    }

    const cards = items.map((d) => h('li', { class: 'card approval', 'data-testid': `disposal-${d.id}` },
      h('div', { class: 'approval-head' },
        h('strong', { class: 'route-name' }, label('route', d.route)),
        h('a', { class: 'code lg', href: `#/r/${seg(d.return_id)}` }, d.return_id)),
      // What it is and why it may not go back to stock: the item, and how it was graded.
      d.line ? lineTitle(d.line) : null,
      h('dl', { class: 'facts' },
        d.line ? null : h('div', { class: 'fact' }, h('dt', {}, t('approvals.line')), h('dd', {}, t('line.gnum', { n: d.gnum }))),
        h('div', { class: 'fact' }, h('dt', {}, t('approvals.qty')), h('dd', {}, d.line?.unit ? `${d.qty} ${label('unit', d.line.unit)}` : String(d.qty))),
        d.line?.grades ? h('div', { class: 'fact', 'data-testid': 'grades' }, h('dt', {}, t('approvals.grades')), h('dd', {}, gradeText(d.line.grades) || '—')) : null,
        d.warehouse ? h('div', { class: 'fact' }, h('dt', {}, t('field.warehouse')), h('dd', { class: 'code' }, d.warehouse)) : null,
        h('div', { class: 'fact' }, h('dt', {}, t('dispose.reference')), h('dd', { class: 'code' }, d.reference || '—')),
        h('div', { class: 'fact' }, h('dt', {}, t('approvals.requested')), h('dd', {}, `${d.requested_by || '—'} · ${fmtTime(d.requested_at)}`))),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'btn big danger', 'data-action': 'reject', 'data-id': d.id, onclick: (e) => decide(d, 'reject', e.currentTarget) }, t('approvals.reject')),
        h('button', { type: 'button', class: 'btn big primary', 'data-action': 'approve', 'data-id': d.id, onclick: (e) => decide(d, 'approve', e.currentTarget) }, t('approvals.approve')))));

    fill(ctx.view,
      h('h1', {}, t('nav.approvals')),
      h('p', { class: 'muted' }, t('approvals.intro')),
      cards.length ? h('ul', { class: 'approvals' }, cards) : h('p', { class: 'empty card' }, t('approvals.none')));
  },
};
