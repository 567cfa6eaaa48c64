// The label printers of a warehouse on the admin's warehouse screen: register one (name,
// host:port of its raw port 9100, resolution, the labels loaded in it, the area it serves),
// take it out of service or back, remove it, send it a test label; and the labels printed
// lately in the warehouse, with their result and a reprint for those not printed.
import { h, field, select } from './dom.js';
import { t, label } from './i18n/index.js';
import { seg } from './api.js';
import { perform } from './actions.js';
import { sectionTitle, table } from './components.js';
import { confirmDialog } from './dialog.js';
import { fmtSecond } from './format.js';
import { jobText } from './printing.js';
import * as places from './places.js';

const AREAS = ['receiving', 'pending_inspection', 'discrepancy', 'hold', 'restock', 'exit'];
const SIZES = ['100x150', '60x40'];
const DPIS = [203, 300, 600];

export function printersSection(ctx, code, { printers, jobs, bins }) {
  const changed = () => {
    places.forget(`printers.${code}`);
    ctx.refresh();
  };
  const change = (p, body, okText, button) => perform({
    method: 'PATCH', path: `/warehouses/${seg(code)}/printers/${seg(p.code)}`, body, button,
    label: { k: 'op.printer_change', v: { code: p.code, warehouse: code } }, okText,
  }).then((res) => { if (res) changed(); });

  // A test label: a bin of the printer's area (any bin when that area has none).
  const testBin = (p) => (bins.find((b) => b.area === p.area) || bins[0] || null);
  const testPrint = async (p, button) => {
    const bin = testBin(p);
    if (!bin) return;
    const res = await perform({
      path: `/warehouses/${seg(code)}/printers/${seg(p.code)}/jobs`, body: { label: 'bin', id: bin.code }, button,
      label: { k: 'op.print', v: { id: bin.code, printer: p.code } }, okText: t('printers.test_sent', { bin: bin.code, printer: p.name }),
    });
    if (res) ctx.refresh();
  };

  const list = table([
    { title: t('printers.code'), render: (p) => h('span', { class: 'code' }, p.code) },
    { title: t('printers.name'), render: (p) => p.name },
    { title: t('printers.address'), render: (p) => h('span', { class: 'code' }, p.address) },
    { title: t('printers.label'), render: (p) => `${t(`label.size_${p.size}`)} · ${p.dpi} dpi` },
    { title: t('bins.area'), render: (p) => label('area', p.area) },
    { title: t('printers.enabled'), render: (p) => (p.enabled ? t('printers.in_service') : h('strong', { class: 'warn-text' }, t('printers.out_of_service'))) },
    {
      title: '',
      render: (p) => h('span', { class: 'filter-buttons' },
        h('button', {
          type: 'button', class: 'btn small secondary', 'data-action': 'test-print', 'data-printer': p.code,
          disabled: !p.enabled || !testBin(p), onclick: (e) => testPrint(p, e.currentTarget),
        }, t('printers.test')),
        h('button', {
          type: 'button', class: 'btn small ghost', 'data-action': p.enabled ? 'disable-printer' : 'enable-printer', 'data-printer': p.code,
          onclick: (e) => change(p, { enabled: !p.enabled }, t(p.enabled ? 'printers.disabled' : 'printers.enabled_again', { code: p.code }), e.currentTarget),
        }, t(p.enabled ? 'printers.disable' : 'printers.enable')),
        h('button', {
          type: 'button', class: 'btn small ghost danger', 'data-action': 'remove-printer', 'data-printer': p.code,
          onclick: async (e) => {
            const button = e.currentTarget;
            const sure = await confirmDialog({ title: t('printers.remove_title', { code: p.code }), body: t('printers.remove_body'), okText: t('printers.remove'), danger: true });
            if (!sure) return;
            const res = await perform({
              method: 'DELETE', path: `/warehouses/${seg(code)}/printers/${seg(p.code)}`, button,
              label: { k: 'op.printer_remove', v: { code: p.code, warehouse: code } }, okText: t('printers.removed', { code: p.code }),
            });
            if (res) changed();
          },
        }, t('printers.remove'))),
    },
  ], printers, { empty: t('printers.none'), rowAttrs: (p) => ({ 'data-testid': `printer-${p.code}`, 'data-enabled': String(p.enabled) }) });

  const button = h('button', { type: 'submit', class: 'btn primary', id: 'printer-create', 'data-action': 'create-printer' }, t('common.create'));
  const form = h('form', {
    class: 'card form-grid', id: 'printer-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const body = {
        code: String(fd.get('code')).trim(),
        name: String(fd.get('name')).trim(),
        address: String(fd.get('address')).trim(),
        dpi: Number(fd.get('dpi')),
        size: fd.get('size'),
        area: fd.get('area'),
      };
      const res = await perform({
        path: `/warehouses/${seg(code)}/printers`, body, form, button,
        label: { k: 'op.printer_create', v: { code: body.code, warehouse: code } }, okText: t('printers.created', { code: body.code.toUpperCase() }),
      });
      if (res) changed();
    },
  },
  sectionTitle(t('printers.new')),
  field(t('printers.code'), h('input', { id: 'printer-code', name: 'code', required: true, autocomplete: 'off', spellcheck: 'false' })),
  field(t('printers.name'), h('input', { id: 'printer-name', name: 'name', required: true, placeholder: t('printers.name_example') })),
  field(t('printers.address'), h('input', { id: 'printer-address', name: 'address', required: true, autocomplete: 'off', spellcheck: 'false', inputmode: 'url', placeholder: '192.168.1.50:9100' }), t('printers.address_hint')),
  field(t('printers.dpi'), select({ id: 'printer-dpi', name: 'dpi' }, DPIS.map((d) => ({ value: d, label: `${d} dpi` })), 203)),
  field(t('printers.size'), select({ id: 'printer-size', name: 'size' }, SIZES.map((s) => ({ value: s, label: t(`label.size_${s}`) })), '100x150')),
  field(t('bins.area'), select({ id: 'printer-area', name: 'area' }, AREAS.map((a) => ({ value: a, label: label('area', a) })), 'receiving'), t('printers.area_hint')),
  h('div', { class: 'filter-buttons' }, button));

  const printed = table([
    { title: t('printers.when'), render: (j) => fmtSecond(j.requested_at) },
    { title: t('printers.what'), render: (j) => h('span', {}, label('print.label', j.label), ' ', h('span', { class: 'code' }, j.label_id)) },
    { title: t('printers.printer'), render: (j) => j.printer_name || j.printer },
    { title: t('printers.by'), render: (j) => j.requested_by },
    { title: t('common.state'), render: (j) => h('span', { class: j.state === 'failed' || (j.error && j.state !== 'sent') ? 'warn-text' : null }, jobText(j)) },
    {
      title: '',
      render: (j) => (['failed', 'queued', 'cancelled'].includes(j.state)
        ? h('button', {
          type: 'button', class: 'btn small secondary', 'data-action': 'reprint', 'data-job': String(j.id),
          onclick: async (e) => {
            const res = await perform({
              path: `/print-jobs/${seg(j.id)}/retry`, body: {}, button: e.currentTarget,
              label: { k: 'op.reprint', v: { id: j.label_id } }, okText: t('printq.resent', { id: j.label_id, printer: j.printer_name }),
            });
            if (res) ctx.refresh();
          },
        }, t('printq.reprint'))
        : ''),
    },
  ], jobs, { empty: t('printers.nothing_printed'), rowAttrs: (j) => ({ 'data-testid': `print-job-${j.id}`, 'data-state': j.state }) });

  return h('section', { class: 'printers', 'data-testid': 'printers' },
    h('h2', {}, t('printers.title')),
    h('p', { class: 'muted' }, t('printers.intro')),
    list,
    form,
    h('h3', {}, t('printers.recent')),
    printed);
}
