// The supervisor's and admin's dashboard: what needs attention first (returns near their
// 30/45-day limits, holds, discrepancies, approvals waiting), then the charts.
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, seg } from '../api.js';
import { fmtDate, fmtTime, daysLeftText, urgency } from '../format.js';
import { sectionTitle } from '../components.js';
import { barChart, columnChart, hbarChart, pairedColumns, chartWidth } from '../charts.js';
import { navigate, hashWith } from '../router.js';
import * as places from '../places.js';

const STATES = ['declared', 'received', 'sorted', 'inspected', 'closed', 'held', 'cancelled'];

function attentionCard(testid, count, text, href, tone) {
  return h('a', { class: ['attention', count ? tone : 'calm'], href, 'data-testid': testid },
    h('span', { class: 'attention-count' }, String(count ?? 0)),
    h('span', { class: 'attention-label' }, text));
}

function shortDate(d) {
  return fmtDate(d).slice(5);
}

export default {
  title: 'nav.dashboard',
  roles: ['supervisor', 'admin'],
  async render(ctx) {
    const warehouse = ctx.query.warehouse || '';
    const [stats, whs] = await Promise.all([get('/stats', { warehouse }), places.warehouses().catch(() => [])]);
    if (!ctx.alive()) return;

    const whSelect = select({ id: 'dash-warehouse', name: 'warehouse' },
      [{ value: '', label: t('common.all_warehouses') }, ...whs.map((w) => ({ value: w.code, label: `${w.code} ${w.name || ''}` }))], warehouse);
    whSelect.addEventListener('change', () => navigate(hashWith('/dashboard', { warehouse: whSelect.value }), { replace: true }));

    const ageing = stats.ageing || {};
    const near = [...(stats.near_deadline || [])].sort((a, b) => a.days_left - b.days_left);
    const attention = h('section', { class: 'attention-row', 'aria-label': t('dash.attention') },
      attentionCard('att-overdue', ageing.overdue, t('dash.overdue'), '#/returns', 'alarm'),
      attentionCard('att-arrival', ageing.arrival_within_5_days, t('dash.arrival_5'), '#/returns?state=declared', 'warn'),
      attentionCard('att-apply', ageing.apply_within_5_days, t('dash.apply_5'), '#/returns', 'warn'),
      attentionCard('att-holds', stats.holds, t('dash.holds'), '#/returns?state=held', 'warn'),
      attentionCard('att-discrepancies', stats.discrepancies, t('dash.discrepancies'), '#/returns', 'warn'),
      ctx.me.role === 'supervisor'
        ? attentionCard('att-approvals', stats.pending_approvals, t('dash.approvals'), '#/approvals', 'warn') : null);

    const nearList = h('section', { class: 'card' },
      sectionTitle(t('dash.near_deadline')),
      near.length ? h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, [t('dash.what'), t('dash.limit'), t('dash.deadline'), t('dash.days_left')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, near.slice(0, 20).map((n) => h('tr', { class: urgency(n.days_left) },
          h('td', { 'data-label': t('dash.what') }, n.kind === 'arrival'
            ? h('a', { href: `#/r/${seg(n.id)}`, class: 'code' }, n.id)
            : h('span', {}, h('span', { class: 'muted' }, `${t('return.invt_no')} `), h('span', { class: 'code' }, n.id))),
          h('td', { 'data-label': t('dash.limit') }, label('deadline', n.kind)),
          h('td', { 'data-label': t('dash.deadline') }, fmtTime(n.deadline)),
          h('td', { 'data-label': t('dash.days_left') }, h('strong', {}, daysLeftText(n.days_left)))))))
        : h('p', { class: 'empty' }, t('home.nothing_near')));

    const by = stats.by_state || {};
    // Two charts side by side on a desk, one per row on a phone; text keeps its size either way.
    const viewW = ctx.view.clientWidth || 1200;
    const width = chartWidth(viewW >= 900 ? viewW / 2 - 40 : viewW - 40);
    const every = width < 480 ? 10 : 5;
    const charts = h('section', { class: 'charts' },
      h('figure', { class: 'card chart-card' },
        h('figcaption', {}, t('dash.by_state')),
        barChart({ width, title: t('dash.by_state'), items: STATES.map((st) => ({ label: label('state', st), value: by[st] || 0, cls: `st-fill-${st}` })) })),
      h('figure', { class: 'card chart-card' },
        h('figcaption', {}, t('dash.arrivals')),
        columnChart({ width, every, title: t('dash.arrivals'), points: (stats.arrivals_per_day || []).map((p) => ({ label: shortDate(p.date), value: p.count })) })),
      h('figure', { class: 'card chart-card' },
        h('figcaption', {}, t('dash.ageing')),
        hbarChart({
          width,
          title: t('dash.ageing'),
          items: [
            { label: t('dash.arrival_5_short'), value: ageing.arrival_within_5_days || 0, cls: 'st-fill-held' },
            { label: t('dash.apply_5_short'), value: ageing.apply_within_5_days || 0, cls: 'st-fill-held' },
            { label: t('dash.overdue'), value: ageing.overdue || 0, cls: 'st-fill-late' },
          ],
        })),
      h('figure', { class: 'card chart-card' },
        h('figcaption', {}, t('dash.restock_vs_disposal')),
        pairedColumns({
          width,
          every,
          title: t('dash.restock_vs_disposal'),
          points: (stats.restock_vs_disposal || []).map((p) => ({ label: shortDate(p.date), values: [p.restocked, p.disposed] })),
          series: [{ name: t('dash.restocked'), cls: 'series-a' }, { name: t('dash.disposed'), cls: 'series-b' }],
        })));

    fill(ctx.view,
      h('div', { class: 'page-head' }, h('h1', {}, t('nav.dashboard')), field(t('common.warehouse'), whSelect)),
      h('h2', { class: 'visually-hidden' }, t('dash.attention')),
      attention,
      nearList,
      charts);
  },
};
