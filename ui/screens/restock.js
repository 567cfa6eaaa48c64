// Restocking, location first: scan the bin label, then the return label or the items;
// each line can go up to its intact quantity not yet restocked. One restock per line.
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { seg } from '../api.js';
import { loadReturn as load } from '../localcopy.js';
import { loadDraft, saveDraft, clearDraft } from '../store.js';
import { ok, fail, say, clearMessage } from '../feedback.js';
import { perform } from '../actions.js';
import { returnHeader, counter, lineTitle, bigButton } from '../components.js';
import { resolveCode, routeResolved } from '../scanflow.js';
import * as places from '../places.js';
import { printLabel, itemLabelUrl } from '../print.js';

/** Intact pieces of a line still waiting to go back to bonded stock. */
export function restockable(line) {
  // The server says how many may still go back (intact, not late, not yet settled).
  if (typeof line.restockable === 'number') return Math.max(0, line.restockable);
  const intact = line.grades ? line.grades.intact || 0 : 0;
  return Math.max(0, intact - (line.restocked || 0));
}

/** The product has no barcode of its own that a scanner could read. */
function noBarcode(line) {
  return !line.bar_code || line.bar_code === '无';
}

function norm(code) {
  return String(code || '').trim().toUpperCase();
}

export default {
  title: 'restock.title',
  handheld: true,
  roles: ['floor'],
  async render(ctx) {
    // A scanned bin belongs to the task at hand: the draft (bin, return, counts) is kept on the
    // device while a return is being restocked, to survive a reload, and is gone once it is
    // done. Opened for another return, the screen starts without a bin.
    const kept = loadDraft('restock', null);
    const resume = kept && kept.returnId && (!ctx.query.return || ctx.query.return === kept.returnId);
    const draft = { bin: null, returnId: null, qty: {}, ...(resume ? kept : {}) };
    const save = () => (draft.returnId ? saveDraft('restock', null, draft) : clearDraft('restock', null));
    // A correct tap after a refusal: the red message no longer describes the screen.
    const tapped = () => {
      if (document.getElementById('message')?.dataset.kind === 'error') clearMessage();
    };
    let ret = null;

    const stepsBox = h('ol', { class: 'steps', 'aria-label': t('restock.steps') });
    const binBox = h('div');
    const returnBox = h('div');
    const submitBtn = bigButton(t('restock.submit'), { id: 'submit', 'data-action': 'submit', onclick: () => submit() });

    async function findBin(code) {
      const wh = ctx.me.warehouse;
      const list = wh ? await places.bins(wh).catch(() => []) : [];
      const known = list.find((b) => norm(b.code) === norm(code));
      if (known) return { warehouse: wh, code: known.code, area: known.area };
      const res = await resolveCode(code);
      return res.kind === 'bin' ? res.bin : null;
    }

    function setBin(bin) {
      if (bin.area !== 'restock') {
        fail(t('restock.wrong_area', { bin: bin.code, area: label('area', bin.area) }));
        return false;
      }
      draft.bin = bin;
      save();
      return true;
    }

    async function loadReturn(id) {
      ret = id ? await load(id) : null;
      if (ret && draft.returnId !== ret.id) {
        draft.returnId = ret.id;
        draft.qty = {};
      }
      ctx.returnId = ret ? ret.id : null;
      save();
    }

    function addOne(gnum) {
      const line = ret.lines.find((l) => l.gnum === gnum);
      if (!line) return false;
      const max = restockable(line);
      const now = draft.qty[gnum] || 0;
      if (now >= max) {
        fail(t('restock.at_max', { name: line.gname || line.gcode, max }));
        return true;
      }
      draft.qty[gnum] = now + 1;
      save();
      ok(t('restock.counted', { name: line.gname || line.gcode, n: now + 1, max }));
      return true;
    }

    async function drawBin() {
      if (draft.bin) {
        fill(binBox, h('section', { class: 'card bin-chosen', 'data-testid': 'restock-bin' },
          h('span', { class: 'muted' }, t('restock.bin')),
          h('span', { class: 'code xl', id: 'restock-bin' }, draft.bin.code),
          h('span', {}, label('area', draft.bin.area)),
          h('button', {
            type: 'button', class: 'btn secondary', 'data-action': 'change-bin',
            onclick: () => { tapped(); draft.bin = null; save(); drawAll(); },
          }, t('restock.change_bin'))));
        return;
      }
      const wh = ctx.me.warehouse;
      const list = wh ? (await places.bins(wh).catch(() => [])).filter((b) => b.area === 'restock') : [];
      const control = list.length
        ? select({ id: 'bin', name: 'bin', 'data-testid': 'bin' }, [{ value: '', label: t('restock.choose_bin') }, ...list.map((b) => ({ value: b.code, label: b.code }))], '')
        : null;
      if (control) {
        control.addEventListener('change', () => {
          const b = list.find((x) => x.code === control.value);
          if (b && setBin({ warehouse: wh, code: b.code, area: b.area })) {
            tapped();
            drawAll();
          }
        });
      }
      fill(binBox, h('section', { class: 'card prompt' },
        h('h1', {}, t('restock.scan_bin')),
        h('p', { class: 'muted' }, t('restock.scan_bin_hint')),
        control ? field(t('restock.or_choose_bin'), control) : null));
    }

    function drawReturn() {
      if (!draft.bin) {
        fill(returnBox);
        return;
      }
      if (!ret) {
        fill(returnBox, h('section', { class: 'card prompt' }, h('h2', {}, t('restock.scan_return'))));
        return;
      }
      fill(returnBox,
        returnHeader(ret, { compact: true }),
        ret.late ? h('p', { class: 'card warn-card', role: 'note' }, t('restock.late')) : null,
        h('ul', { class: 'lines counting' }, ret.lines.map((l) => {
          const max = restockable(l);
          const n = Math.min(draft.qty[l.gnum] || 0, max);
          return h('li', { class: ['line', max === 0 ? 'line-none' : null], 'data-gnum': l.gnum, 'data-testid': `line-${l.gnum}` },
            lineTitle(l),
            h('div', { class: 'line-count' },
              h('span', { class: 'of' }, t('restock.of', { n, max })),
              max > 0 ? counter({
                value: n, max, name: l.gname || l.gcode, testid: `${l.gnum}`,
                onChange: (v) => { tapped(); draft.qty[l.gnum] = v; save(); drawAll(); },
              }) : h('span', { class: 'muted' }, t('restock.nothing'))),
            max > 0 ? h('button', {
              type: 'button', class: 'btn secondary', 'data-action': 'all', 'data-gnum': l.gnum,
              onclick: () => { tapped(); draft.qty[l.gnum] = max; save(); drawAll(); },
            }, t('restock.all', { n: max })) : null,
            // A product without a usable barcode of its own gets an item label before it goes
            // on the shelf (it then scans like the product).
            max > 0 ? h('button', {
              type: 'button', class: ['btn', noBarcode(l) ? 'primary' : 'ghost'], 'data-action': 'item-label', 'data-gnum': l.gnum,
              title: t('label.item_hint'),
              onclick: () => printLabel(itemLabelUrl(ret.id, l.gnum), '100x150'),
            }, t('label.item')) : null);
        })));
    }

    function drawSteps() {
      const step = !draft.bin ? 1 : !ret ? 2 : 3;
      fill(stepsBox, [1, 2, 3].map((n) => h('li', { class: n === step ? 'current' : n < step ? 'done' : null, 'aria-current': n === step ? 'step' : null }, t(`restock.step${n}`))));
      const total = ret ? ret.lines.reduce((a, l) => a + Math.min(draft.qty[l.gnum] || 0, restockable(l)), 0) : 0;
      submitBtn.disabled = !(draft.bin && ret && total > 0 && !ret.late);
      submitBtn.textContent = total ? t('restock.submit_n', { n: total, bin: draft.bin?.code || '' }) : t('restock.submit');
    }

    async function drawAll() {
      await drawBin();
      if (!ctx.alive()) return;
      drawReturn();
      drawSteps();
    }

    async function submit() {
      const lines = ret.lines.filter((l) => Math.min(draft.qty[l.gnum] || 0, restockable(l)) > 0);
      let queued = false;
      for (const l of lines) {
        const qty = Math.min(draft.qty[l.gnum], restockable(l));
        const res = await perform({
          path: `/returns/${seg(ret.id)}/restock`, body: { gnum: l.gnum, qty, bin: draft.bin.code }, button: submitBtn, context: 'restock',
          label: { k: 'op.restock', v: { id: ret.id, gnum: l.gnum, qty, bin: draft.bin.code } },
        });
        if (!res) {
          if (ctx.alive()) drawAll();
          return;
        }
        // The action is made (sent or queued): it must leave the draft even if the screen is gone.
        delete draft.qty[l.gnum];
        save();
        if (!ctx.alive()) return;
        if (res.state === 'queued') queued = true;
        else if (res.data) ret = res.data;
      }
      const id = ret.id;
      // Keep the bin for the next return: restocking usually fills one bin with many parcels.
      draft.returnId = null;
      draft.qty = {};
      ret = null;
      ctx.returnId = null;
      save();
      if (queued) say(t('outbox.queued'), 'warn');
      else ok(t('restock.done', { id, bin: draft.bin.code }));
      drawAll();
    }

    ctx.onScan = async (code) => {
      if (ret) {
        const local = ret.lines.find((l) => (l.bar_code && l.bar_code !== '无' && norm(l.bar_code) === norm(code)) || norm(l.gcode) === norm(code));
        if (local && draft.bin) {
          addOne(local.gnum);
          drawAll();
          return true;
        }
      }
      const res = await resolveCode(code, ret ? ret.id : undefined);
      if (res.kind === 'bin' && res.bin) {
        if (setBin(res.bin)) ok(t('scan.bin_restock', { bin: res.bin.code }));
        drawAll();
        return true;
      }
      const rid = res.return?.id || (res.kind === 'return' ? res.id : null);
      if (rid && !(res.next_actions || []).includes('restock')) {
        // A return with nothing to restock (closed, held, late, not inspected yet): show it.
        routeResolved(res);
        return true;
      }
      if (!draft.bin) {
        fail(t('restock.bin_first'));
        return true;
      }
      if (rid && (!ret || ret.id !== rid)) {
        await loadReturn(rid);
        if (!res.line) ok(t('restock.return_open', { id: rid }));
      }
      if (res.line && ret) addOne(res.line.gnum);
      else if (!rid) fail(t('restock.scan_return_first'));
      drawAll();
      return true;
    };

    // Arriving from a bin scan or a return's "restock" button.
    if (ctx.query.bin) {
      const bin = await findBin(ctx.query.bin).catch(() => null);
      if (bin) setBin(bin);
    }
    const rid = ctx.query.return || draft.returnId;
    if (rid) await loadReturn(rid);
    if (!ctx.alive()) return;
    fill(ctx.view, stepsBox, binBox, returnBox);
    ctx.setActions(submitBtn);
    await drawAll();
    if (ctx.query.bin || ctx.query.return) history.replaceState(null, '', '#/restock');
  },
};
