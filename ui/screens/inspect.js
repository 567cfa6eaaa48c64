// Inspecting: for each line, big +/− counters per grade that must add up to the quantity
// received on that line before the inspection can be submitted. "All intact" grades the whole
// return in one tap; a restock bin scanned here puts every intact unit there with the
// inspection (the inspection and one restock per line, as from the restock screen).
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { seg } from '../api.js';
import { loadReturn } from '../localcopy.js';
import { loadDraft, saveDraft, clearDraft } from '../store.js';
import { fail, ok, say } from '../feedback.js';
import { perform } from '../actions.js';
import { returnHeader, counter, lineTitle, bigButton } from '../components.js';
import { resolveCode, routeResolved } from '../scanflow.js';
import { navigate } from '../router.js';
import * as places from '../places.js';

export const GRADES = ['intact', 'damaged_packaging', 'used', 'defective', 'not_original'];

/** How many of a line arrived and must be graded. */
export function receivedQty(line) {
  if (typeof line.received === 'number') return line.received;
  if (typeof line.sorted === 'number') return Math.min(line.sorted, line.qty);
  return line.qty;
}

function emptyGrades() {
  return Object.fromEntries(GRADES.map((g) => [g, 0]));
}

export default {
  title: 'inspect.title',
  handheld: true,
  roles: ['floor'],
  async render(ctx) {
    const id = ctx.params.id;
    ctx.returnId = id;
    const r = await loadReturn(id);
    if (!ctx.alive()) return;
    const saved = loadDraft('inspect', id);
    // bin: the restock bin scanned for this return's intact units (it belongs to this draft only).
    const draft = { grades: {}, bin: null, ...(saved || {}) };
    const warehouse = r.warehouse || ctx.me.warehouse;
    const restockBins = warehouse ? (await places.bins(warehouse).catch(() => [])).filter((b) => b.area === 'restock') : [];
    if (!ctx.alive()) return;
    for (const l of r.lines) draft.grades[l.gnum] = { ...emptyGrades(), ...(draft.grades[l.gnum] || {}) };
    const save = () => saveDraft('inspect', id, draft);

    const box = h('ul', { class: 'lines grading' });
    const restockBox = h('div');
    const allIntactBtn = h('button', {
      type: 'button', class: 'btn big secondary', 'data-action': 'all-intact-return',
      onclick: () => {
        for (const l of r.lines) draft.grades[l.gnum] = { ...emptyGrades(), intact: receivedQty(l) };
        save();
        draw();
      },
    }, t('inspect.all_intact_return', { n: r.lines.reduce((a, l) => a + receivedQty(l), 0) }));
    const status = h('p', { class: 'summary', id: 'inspect-summary', 'aria-live': 'polite' });
    const submitBtn = bigButton(t('inspect.submit'), { id: 'submit', 'data-action': 'submit', onclick: () => submit() });

    const sumOf = (gnum) => GRADES.reduce((a, g) => a + draft.grades[gnum][g], 0);
    const complete = () => r.lines.every((l) => sumOf(l.gnum) === receivedQty(l));
    const intactTotal = () => r.lines.reduce((a, l) => a + draft.grades[l.gnum].intact, 0);
    // A late parcel may only leave the zone: nothing of it goes back to stock.
    const canRestock = () => !r.late && complete() && intactTotal() > 0;

    function setBin(bin) {
      if (bin.area !== 'restock') {
        fail(t('restock.wrong_area', { bin: bin.code, area: label('area', bin.area) }));
        return;
      }
      if (r.late) {
        fail(t('restock.late'));
        return;
      }
      draft.bin = bin.code;
      save();
      ok(t('inspect.bin_set', { bin: bin.code }));
      draw();
    }

    function drawRestock() {
      if (r.late) {
        fill(restockBox);
        return;
      }
      if (draft.bin) {
        fill(restockBox, h('section', { class: 'card bin-chosen', 'data-testid': 'restock-bin' },
          h('span', { class: 'muted' }, t('restock.bin')),
          h('span', { class: 'code xl', id: 'restock-bin' }, draft.bin),
          h('span', {}, canRestock() ? t('inspect.restock_here', { n: intactTotal() }) : t('inspect.restock_after')),
          h('button', {
            type: 'button', class: 'btn secondary', 'data-action': 'change-bin',
            onclick: () => { draft.bin = null; save(); draw(); },
          }, t('restock.change_bin'))));
        return;
      }
      const control = restockBins.length
        ? select({ id: 'bin', name: 'bin', 'data-testid': 'bin' }, [{ value: '', label: t('restock.choose_bin') }, ...restockBins.map((b) => ({ value: b.code, label: b.code }))], '')
        : null;
      control?.addEventListener('change', () => {
        const b = restockBins.find((x) => x.code === control.value);
        if (b) setBin(b);
      });
      fill(restockBox, h('section', { class: 'card prompt', 'data-testid': 'restock-prompt' },
        h('h2', {}, t('inspect.scan_restock_bin')),
        h('p', { class: 'muted' }, t('inspect.scan_restock_bin_hint')),
        control ? field(t('restock.or_choose_bin'), control) : null));
    }

    function draw() {
      fill(box, r.lines.map((l) => {
        const need = receivedQty(l);
        const sum = sumOf(l.gnum);
        const left = need - sum;
        const g = draft.grades[l.gnum];
        return h('li', { class: ['line', left === 0 ? 'line-done' : 'line-short'], 'data-gnum': l.gnum, 'data-testid': `line-${l.gnum}` },
          lineTitle(l),
          h('div', { class: 'line-status' },
            h('strong', {}, t('inspect.received', { n: need })),
            h('span', { class: left === 0 ? 'ok-text' : 'warn-text', 'data-testid': `left-${l.gnum}` },
              left === 0 ? t('inspect.line_complete') : left > 0 ? t('inspect.left', { n: left }) : t('inspect.too_many', { n: -left })),
            h('button', {
              type: 'button', class: 'btn secondary', 'data-action': 'all-intact', 'data-gnum': l.gnum,
              onclick: () => {
                draft.grades[l.gnum] = { ...emptyGrades(), intact: need };
                save();
                draw();
              },
            }, t('inspect.all_intact'))),
          h('div', { class: 'grades' }, GRADES.map((grade) => h('div', { class: `grade grade-${grade}` },
            h('span', { class: 'grade-name' }, label('grade', grade)),
            counter({
              value: g[grade], max: g[grade] + Math.max(0, left), name: `${l.gname || l.gnum} ${label('grade', grade)}`,
              testid: `${l.gnum}-${grade}`,
              onChange: (v) => {
                draft.grades[l.gnum][grade] = v;
                save();
                draw();
              },
            })))));
      }));
      const done = complete();
      submitBtn.disabled = !done;
      status.textContent = done ? t('inspect.ready') : t('inspect.not_ready');
      const putAway = draft.bin && canRestock();
      submitBtn.textContent = putAway ? t('inspect.submit_restock', { n: intactTotal(), bin: draft.bin }) : t('inspect.submit');
      drawRestock();
    }

    async function submit() {
      if (!complete()) {
        fail(t('inspect.not_ready'));
        return;
      }
      const bin = canRestock() ? draft.bin : null;
      const body = { lines: r.lines.map((l) => ({ gnum: l.gnum, ...draft.grades[l.gnum] })) };
      const res = await perform({
        path: `/returns/${seg(id)}/inspect`, body, button: submitBtn, context: 'inspect',
        label: { k: 'op.inspect', v: { id } }, okText: bin ? null : t('inspect.done', { id }),
      });
      if (!res) {
        if (ctx.alive()) draw();
        return;
      }
      // The inspection is made: whatever follows, the draft is done with.
      const intact = Object.fromEntries(r.lines.map((l) => [l.gnum, draft.grades[l.gnum].intact]));
      clearDraft('inspect', id);
      let queued = res.state === 'queued';
      let now = res.data || null;
      // Offline: the parcel as the device now has it (inspected, then restocked).
      let local = res.local || null;
      let moved = 0;
      for (const l of bin ? r.lines : []) {
        // What the server says may go back (intact, not settled); offline, what was graded intact.
        const qty = now ? (now.lines.find((x) => x.gnum === l.gnum)?.restockable ?? 0) : intact[l.gnum];
        if (qty <= 0) continue;
        const step = await perform({
          path: `/returns/${seg(id)}/restock`, body: { gnum: l.gnum, qty, bin }, button: submitBtn, context: 'restock',
          label: { k: 'op.restock', v: { id, gnum: l.gnum, qty, bin } },
        });
        if (!step) break;
        moved += qty;
        if (step.state === 'queued') {
          queued = true;
          local = step.local || local;
        } else now = step.data || now;
      }
      if (queued) say(t('outbox.queued'), 'warn');
      else if (moved) ok(t('inspect.done_restocked', { id, n: moved, bin }));
      if (!ctx.alive()) return;
      navigate(queued && !local ? '#/' : `#/r/${seg(id)}`);
    }

    ctx.onScan = async (code) => {
      // A restock bin of this warehouse is known on the device.
      const known = restockBins.find((b) => b.code.toUpperCase() === String(code).trim().toUpperCase());
      if (known) {
        setBin(known);
        return true;
      }
      // Scanning an item of this parcel jumps to its line; anything else is handled as usual.
      const res = await resolveCode(code, id);
      if (res.kind === 'bin' && res.bin) {
        setBin(res.bin);
        return true;
      }
      if (res.line && (!res.return || res.return.id === id)) {
        const li = box.querySelector(`[data-gnum="${CSS.escape(String(res.line.gnum))}"]`);
        if (li) li.scrollIntoView({ block: 'center' });
        ok(t('inspect.line_found', { name: res.line.gname || res.line.gcode }));
        return true;
      }
      routeResolved(res);
      return true;
    };

    fill(ctx.view, returnHeader(r, { compact: true }), h('p', { class: 'instruction' }, t('inspect.instruction')),
      allIntactBtn, box, status, restockBox);
    ctx.setActions(submitBtn);
    draw();
  },
};
