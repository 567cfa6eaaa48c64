// Sorting an opened parcel: every scan of a product barcode or HS code adds one to the
// matching line; codes that match no line are listed plainly as discrepancies; then the bin
// the parcel goes to is chosen (or its label scanned) and the count is submitted.
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { seg } from '../api.js';
import { loadReturn } from '../localcopy.js';
import { loadDraft, saveDraft, clearDraft } from '../store.js';
import { ok, fail, say } from '../feedback.js';
import { perform } from '../actions.js';
import { confirmDialog } from '../dialog.js';
import { returnHeader, counter, lineTitle, bigButton, sectionTitle } from '../components.js';
import { resolveCode, routeResolved, actionHref } from '../scanflow.js';
import { navigate } from '../router.js';
import * as places from '../places.js';

const SORT_AREAS = ['pending_inspection', 'discrepancy', 'hold'];

function norm(code) {
  return String(code || '').trim().toUpperCase();
}

/** The line a code belongs to, preferring one that still has room. */
function matchLocally(lines, counts, code) {
  const c = norm(code);
  const hits = lines.filter((l) => (l.bar_code && l.bar_code !== '无' && norm(l.bar_code) === c) || norm(l.gcode) === c);
  return hits.find((l) => (counts[l.gnum] || 0) < l.qty) || hits[0] || null;
}

export default {
  title: 'sort.title',
  handheld: true,
  roles: ['floor'],
  async render(ctx) {
    const id = ctx.params.id;
    ctx.returnId = id;
    const r = await loadReturn(id);
    if (!ctx.alive()) return;
    const warehouse = r.warehouse || ctx.me.warehouse;
    let binList = [];
    try {
      binList = warehouse ? await places.bins(warehouse) : [];
    } catch {
      binList = [];
    }
    if (!ctx.alive()) return;
    const draft = { counts: {}, unmatched: {}, bin: null, ...(loadDraft('sort', id) || {}) };
    const save = () => saveDraft('sort', id, draft);

    const linesBox = h('ul', { class: 'lines counting' });
    const unmatchedBox = h('div');
    const binBox = h('div');
    const summary = h('p', { class: 'summary', 'aria-live': 'polite', id: 'sort-summary' });
    const submitBtn = bigButton(t('sort.submit'), { id: 'submit', 'data-action': 'submit', onclick: () => submit() });

    function hasDiscrepancy() {
      return Object.keys(draft.unmatched).length > 0
        || r.lines.some((l) => (draft.counts[l.gnum] || 0) !== l.qty);
    }

    function drawLines() {
      fill(linesBox, r.lines.map((l) => {
        const n = draft.counts[l.gnum] || 0;
        const state = n === l.qty ? 'done' : n > l.qty ? 'over' : 'short';
        return h('li', { class: ['line', `line-${state}`], 'data-gnum': l.gnum, 'data-testid': `line-${l.gnum}` },
          lineTitle(l),
          h('div', { class: 'line-count' },
            h('span', { class: 'of' }, t('sort.of', { n, qty: l.qty })),
            counter({
              value: n, name: l.gname || l.gcode, testid: `${l.gnum}`,
              onChange: (v) => { draft.counts[l.gnum] = v; save(); drawAll(); },
            })),
          state === 'over' ? h('p', { class: 'line-note over' }, t('sort.over', { n: n - l.qty })) : null,
          // Once one unit is in hand, the rest of the line is confirmed with one tap.
          n > 0 && n < l.qty ? h('button', {
            type: 'button', class: 'btn secondary all-here', 'data-action': 'all-here', 'data-gnum': l.gnum,
            onclick: () => {
              draft.counts[l.gnum] = l.qty;
              save();
              drawAll();
              ok(t('sort.all_here_done', { name: l.gname || l.gcode, qty: l.qty }));
            },
          }, t('sort.all_here', { qty: l.qty })) : null);
      }));
    }

    function drawUnmatched() {
      const codes = Object.entries(draft.unmatched);
      fill(unmatchedBox, codes.length ? h('section', { class: 'card warn-card', 'data-testid': 'unmatched' },
        sectionTitle(t('sort.unmatched')),
        h('p', {}, t('sort.unmatched_note')),
        h('ul', { class: 'plain-list' }, codes.map(([code, qty]) => h('li', { class: 'unmatched-row' },
          h('span', { class: 'code lg' }, code),
          counter({
            value: qty, name: code, testid: `unmatched-${code}`,
            onChange: (v) => {
              if (v === 0) delete draft.unmatched[code];
              else draft.unmatched[code] = v;
              save();
              drawAll();
            },
          }))))) : null);
    }

    function drawBin() {
      const options = binList.filter((b) => SORT_AREAS.includes(b.area));
      const suggested = hasDiscrepancy() ? 'discrepancy' : 'pending_inspection';
      let control;
      if (options.length) {
        const ordered = [...options].sort((a, b) => (a.area === suggested ? 0 : 1) - (b.area === suggested ? 0 : 1));
        control = select({ id: 'bin', name: 'bin', 'data-testid': 'bin' },
          [{ value: '', label: t('sort.choose_bin') }, ...ordered.map((b) => ({ value: b.code, label: `${b.code} · ${label('area', b.area)}` }))],
          draft.bin || '');
      } else {
        control = h('input', { id: 'bin', name: 'bin', 'data-testid': 'bin', value: draft.bin || '', autocomplete: 'off' });
      }
      control.addEventListener('change', () => {
        draft.bin = control.value || null;
        save();
        drawSummary();
      });
      fill(binBox, h('section', { class: 'card' },
        field(t('sort.bin'), control, t(`sort.bin_hint_${suggested}`))));
    }

    function drawSummary() {
      const total = Object.values(draft.counts).reduce((a, b) => a + b, 0);
      const extra = Object.values(draft.unmatched).reduce((a, b) => a + b, 0);
      summary.textContent = t('sort.summary', { total, extra });
      submitBtn.disabled = !draft.bin || (total + extra === 0);
    }

    let lastSuggested = null;
    function drawAll() {
      drawLines();
      drawUnmatched();
      const suggested = hasDiscrepancy() ? 'discrepancy' : 'pending_inspection';
      if (suggested !== lastSuggested) {
        lastSuggested = suggested;
        drawBin();
      }
      drawSummary();
    }

    async function submit() {
      if (!draft.bin) {
        fail(t('sort.need_bin'));
        return;
      }
      if (hasDiscrepancy()) {
        const yes = await confirmDialog({
          title: t('sort.confirm_discrepancy_title'),
          body: t('sort.confirm_discrepancy', { bin: draft.bin }),
          okText: t('sort.submit'),
        });
        if (!yes) return;
      }
      const body = {
        items: r.lines.filter((l) => (draft.counts[l.gnum] || 0) > 0).map((l) => ({ gnum: l.gnum, qty: draft.counts[l.gnum] })),
        unmatched: Object.entries(draft.unmatched).map(([code, qty]) => ({ code, qty })),
        bin: draft.bin,
      };
      const res = await perform({
        path: `/returns/${seg(id)}/sort`, body, button: submitBtn, context: 'sort',
        label: { k: 'op.sort', v: { id } }, okText: t('sort.done', { id, bin: draft.bin }),
      });
      if (!res) return;
      clearDraft('sort', id);
      if (!ctx.alive()) return;
      // Sorted: inspection is the next step, on the same bench (also offline: the device has
      // the parcel sorted in its copy).
      const now = res.data || res.local;
      const next = (now?.next_actions || []).includes('inspect') ? 'inspect' : null;
      navigate(next ? actionHref(next, id) : now ? `#/r/${seg(id)}` : '#/');
    }

    ctx.onScan = async (code) => {
      const local = matchLocally(r.lines, draft.counts, code);
      if (local) {
        draft.counts[local.gnum] = (draft.counts[local.gnum] || 0) + 1;
        save();
        drawAll();
        if (draft.counts[local.gnum] > local.qty) fail(t('sort.over_scan', { name: local.gname, n: draft.counts[local.gnum], qty: local.qty }));
        else ok(t('sort.counted', { name: local.gname || local.gcode }));
        return true;
      }
      // A bin label of this warehouse is known on the device: no need to ask the server (and it
      // keeps working while the network is down).
      const bin = binList.find((b) => norm(b.code) === norm(code));
      let res;
      try {
        res = bin ? { kind: 'bin', id: bin.code, bin } : await resolveCode(code, id);
      } catch (err) {
        if (err.code !== 'not_found' && err.code !== 'network' && err.code !== 'not_in_copy') throw err;
        res = null;
      }
      if (res && res.kind === 'bin' && res.bin) {
        if (!SORT_AREAS.includes(res.bin.area)) {
          fail(t('sort.wrong_bin_area', { bin: res.bin.code, area: label('area', res.bin.area) }));
          return true;
        }
        draft.bin = res.bin.code;
        save();
        drawBin();
        drawSummary();
        ok(t('sort.bin_set', { bin: res.bin.code }));
        return true;
      }
      if (res && res.line && (!res.return || res.return.id === id)) {
        const line = r.lines.find((l) => l.gnum === res.line.gnum);
        if (line) {
          draft.counts[line.gnum] = (draft.counts[line.gnum] || 0) + 1;
          save();
          drawAll();
          ok(t('sort.counted', { name: line.gname || line.gcode }));
          return true;
        }
      }
      if (res && (res.kind === 'return' || res.kind === 'waybill') && (res.return?.id || res.id) === id) {
        say(t('scan.same_return', { id }), 'info');
        return true;
      }
      if (res && (res.kind === 'return' || res.kind === 'waybill')) {
        // Another parcel: this one's count stays saved on the device.
        routeResolved(res);
        return true;
      }
      draft.unmatched[code] = (draft.unmatched[code] || 0) + 1;
      save();
      drawAll();
      fail(t('sort.unmatched_scan', { code }));
      return true;
    };

    fill(ctx.view,
      returnHeader(r, { compact: true }),
      h('p', { class: 'instruction' }, t('sort.instruction')),
      linesBox, unmatchedBox, binBox, summary);
    drawAll();
    ctx.setActions(submitBtn);
  },
};
