// One warehouse: its bins by area (create, print one label or an A4 sheet of an area), its
// cameras (create), the cameras being what the audit record names for each floor action, and its
// label printers (register, change, take out of service, remove; a test label; what was printed).
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, getAll, seg } from '../api.js';
import { perform } from '../actions.js';
import { sectionTitle, table } from '../components.js';
import { printBinLabel, printBinSheet, downloadZpl, zplDpi, setZplDpi } from '../print.js';
import * as places from '../places.js';
import { printersSection } from '../printers.js';

export const AREAS = ['receiving', 'pending_inspection', 'discrepancy', 'hold', 'restock', 'exit'];

export default {
  title: 'nav.warehouses',
  roles: ['admin'],
  async render(ctx) {
    const code = ctx.params.code;
    const [bins, cameras, printers, jobs] = await Promise.all([
      getAll(`/warehouses/${seg(code)}/bins`),
      getAll(`/warehouses/${seg(code)}/cameras`),
      getAll(`/warehouses/${seg(code)}/printers`),
      get('/print-jobs', { warehouse: code, limit: 20 }),
    ]);
    if (!ctx.alive()) return;

    const byArea = AREAS.map((area) => {
      const list = bins.filter((b) => b.area === area);
      return h('section', { class: 'card area', 'data-area': area },
        sectionTitle(`${label('area', area)} (${list.length})`, list.length ? h('span', { class: 'filter-buttons' },
          h('button', {
            type: 'button', class: 'btn secondary', 'data-action': 'print-sheet', 'data-area': area,
            onclick: () => printBinSheet(code, area),
          }, t('bins.print_sheet')),
          h('button', {
            type: 'button', class: 'btn ghost', 'data-action': 'zpl-sheet', 'data-area': area,
            onclick: () => downloadZpl(`/labels/bins/${seg(code)}`, { area }, `${code}-${area}`),
          }, t('label.zpl'))) : null),
        list.length ? h('ul', { class: 'bin-list' }, list.map((b) => h('li', { 'data-testid': `bin-${b.code}` },
          h('span', { class: 'code lg' }, b.code),
          h('span', { class: 'bin-actions' },
            h('button', {
              type: 'button', class: 'btn small secondary', 'data-action': 'print-bin', 'data-bin': b.code,
              'aria-label': t('bins.print_one_label', { bin: b.code }),
              onclick: () => printBinLabel(code, b.code),
            }, t('bins.print_one')),
            h('button', {
              type: 'button', class: 'btn small ghost', 'data-action': 'zpl-bin', 'data-bin': b.code,
              'aria-label': t('label.zpl_one', { bin: b.code }),
              onclick: () => downloadZpl(`/labels/bins/${seg(code)}/${seg(b.code)}`, {}, b.code),
            }, 'ZPL'))))) : h('p', { class: 'empty' }, t('bins.none')));
    });

    const dpiChoice = h('div', { class: 'chips', role: 'group', 'aria-label': t('label.zpl_dpi') },
      [203, 300].map((dpi) => h('button', {
        type: 'button', class: 'chip', 'data-dpi': dpi, 'aria-pressed': zplDpi() === dpi ? 'true' : 'false',
        onclick: (e) => {
          setZplDpi(dpi);
          for (const b of e.currentTarget.parentNode.querySelectorAll('button')) b.setAttribute('aria-pressed', Number(b.dataset.dpi) === dpi ? 'true' : 'false');
        },
      }, `${dpi} dpi`)));

    const binButton = h('button', { type: 'submit', class: 'btn primary', id: 'bin-create', 'data-action': 'create-bin' }, t('common.create'));
    const binForm = h('form', {
      class: 'card form-grid', id: 'bin-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const fd = new FormData(binForm);
        const body = { code: String(fd.get('code')).trim(), area: fd.get('area') };
        const res = await perform({
          path: `/warehouses/${seg(code)}/bins`, body, form: binForm, button: binButton,
          label: { k: 'op.bin_create', v: { code: body.code, warehouse: code } }, okText: t('bins.created', { bin: body.code }),
        });
        if (res) {
          places.forget(`bins.${code}`);
          ctx.refresh();
        }
      },
    },
    sectionTitle(t('bins.new')),
    field(t('bins.code'), h('input', { id: 'bin-code', name: 'code', required: true, autocomplete: 'off', spellcheck: 'false' })),
    field(t('bins.area'), select({ id: 'bin-area', name: 'area' }, AREAS.map((a) => ({ value: a, label: label('area', a) })), 'restock')),
    h('div', { class: 'filter-buttons' }, binButton));

    const uncovered = AREAS.filter((a) => !cameras.some((c) => c.area === a));
    const camTable = table([
      { title: t('cameras.code'), render: (c) => h('span', { class: 'code' }, c.code) },
      { title: t('cameras.name'), render: (c) => c.name },
      { title: t('bins.area'), render: (c) => label('area', c.area) },
      { title: t('cameras.playback_url'), render: (c) => (c.playback_url ? h('span', { class: 'code small-url' }, c.playback_url) : '—') },
    ], cameras, { empty: t('cameras.none'), rowAttrs: (c) => ({ 'data-testid': `camera-${c.code}` }) });
    const camButton = h('button', { type: 'submit', class: 'btn primary', id: 'camera-create', 'data-action': 'create-camera' }, t('common.create'));
    const camForm = h('form', {
      class: 'card form-grid', id: 'camera-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const fd = new FormData(camForm);
        const body = { code: String(fd.get('code')).trim(), name: String(fd.get('name')).trim(), area: fd.get('area') };
        const playback = String(fd.get('playback_url') || '').trim();
        if (playback) body.playback_url = playback;
        const res = await perform({
          path: `/warehouses/${seg(code)}/cameras`, body, form: camForm, button: camButton,
          label: { k: 'op.camera_create', v: { code: body.code, warehouse: code } }, okText: t('cameras.created', { code: body.code }),
        });
        if (res) {
          places.forget(`cameras.${code}`);
          ctx.refresh();
        }
      },
    },
    sectionTitle(t('cameras.new')),
    field(t('cameras.code'), h('input', { id: 'camera-code', name: 'code', required: true, autocomplete: 'off' })),
    field(t('cameras.name'), h('input', { id: 'camera-name', name: 'name', required: true })),
    field(t('bins.area'), select({ id: 'camera-area', name: 'area' }, AREAS.map((a) => ({ value: a, label: label('area', a) })), uncovered[0] || 'receiving')),
    field(t('cameras.playback_url'), h('input', { id: 'camera-playback', name: 'playback_url', type: 'url', maxlength: 500, autocomplete: 'off', spellcheck: 'false', placeholder: 'https://nvr/playback?start={start}&end={end}' }), t('cameras.playback_hint')),
    h('div', { class: 'filter-buttons' }, camButton));

    // Every floor step is filmed by the camera over its area: an area without one is shown
    // in red, so that a camera is registered before work starts there.
    const coverage = uncovered.length
      ? h('p', { class: 'notice error', id: 'camera-coverage', role: 'alert', 'data-uncovered': uncovered.join(',') },
        t('warehouse.uncovered', { areas: uncovered.map((a) => label('area', a)).join('、') }))
      : h('p', { class: 'notice ok', id: 'camera-coverage', 'data-uncovered': '' }, t('warehouse.all_covered'));

    fill(ctx.view,
      h('p', {}, h('a', { href: '#/admin/warehouses' }, `← ${t('nav.warehouses')}`)),
      h('h1', {}, t('warehouse.title', { code })),
      h('h2', {}, t('bins.title')),
      h('div', { class: 'zpl-dpi' }, h('span', { class: 'muted' }, t('label.zpl_dpi')), dpiChoice),
      h('div', { class: 'areas' }, byArea),
      binForm,
      h('h2', {}, t('cameras.title')),
      coverage,
      camTable,
      camForm,
      printersSection(ctx, code, { printers, jobs: jobs.items || [], bins }));
  },
};
