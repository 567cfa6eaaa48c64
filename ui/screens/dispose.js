// Disposal of goods that do not go back to stock: out of the zone (出区), re-export (退运出境)
// or destruction (销毁), with the document reference. Re-export and destruction wait for a
// supervisor's approval.
import { h, fill, field } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { seg } from '../api.js';
import { loadReturn } from '../localcopy.js';
import { loadDraft, saveDraft, clearDraft } from '../store.js';
import { fail, ok, say } from '../feedback.js';
import { perform } from '../actions.js';
import { returnHeader, counter, lineTitle, bigButton } from '../components.js';
import { disposalsPart } from '../returnparts.js';
import { resolveCode, routeResolved } from '../scanflow.js';
import { navigate } from '../router.js';
import { receivedQty } from './inspect.js';

const ROUTES = ['exit', 'reexport', 'destroy'];
const NEEDS_APPROVAL = ['reexport', 'destroy'];

/** Pieces of a line still in the warehouse and not already waiting for a disposal approval. */
export function disposable(line) {
  // The server's count of units not yet restocked, disposed or waiting for an approval.
  if (typeof line.unsettled === 'number') return Math.max(0, line.unsettled);
  const disposed = line.disposed ? Object.values(line.disposed).reduce((a, b) => a + (b || 0), 0) : 0;
  const inWarehouse = typeof line.in_warehouse === 'number'
    ? line.in_warehouse
    : receivedQty(line) - (line.restocked || 0) - disposed;
  return Math.max(0, inWarehouse - (line.pending_disposal || 0));
}

/** Graded pieces that failed the second-sale condition, the usual candidates for disposal. */
function failedGrades(line) {
  if (!line.grades) return 0;
  return ['damaged_packaging', 'used', 'defective', 'not_original'].reduce((a, g) => a + (line.grades[g] || 0), 0);
}

export default {
  title: 'dispose.title',
  handheld: true,
  roles: ['floor'],
  async render(ctx) {
    const id = ctx.params.id;
    ctx.returnId = id;
    let r = await loadReturn(id);
    if (!ctx.alive()) return;
    const draft = { route: r.late ? 'exit' : null, reference: '', qty: {}, ...(loadDraft('dispose', id) || {}) };
    const save = () => saveDraft('dispose', id, draft);

    const routeBox = h('div', { class: 'route-choice', role: 'radiogroup', 'aria-label': t('dispose.route') });
    const approvalNote = h('p', { class: 'card warn-card', id: 'approval-note', role: 'note', hidden: true }, t('dispose.needs_approval'));
    const reference = h('input', { id: 'reference', name: 'reference', value: draft.reference, autocomplete: 'off', 'data-testid': 'reference' });
    reference.addEventListener('input', () => {
      draft.reference = reference.value;
      save();
      drawSubmit();
    });
    const linesBox = h('ul', { class: 'lines counting' });
    const doneBox = h('div');
    const submitBtn = bigButton(t('dispose.submit'), { id: 'submit', 'data-action': 'submit', onclick: () => submit() });

    function drawRoutes() {
      fill(routeBox, ROUTES.map((route) => h('button', {
        type: 'button', role: 'radio', class: ['btn big route', draft.route === route ? 'on' : null],
        'aria-checked': draft.route === route ? 'true' : 'false', 'data-route': route, 'data-testid': `route-${route}`,
        onclick: () => { draft.route = route; save(); drawRoutes(); drawSubmit(); },
      }, label('route', route))));
      approvalNote.hidden = !NEEDS_APPROVAL.includes(draft.route);
    }

    function drawLines() {
      fill(linesBox, r.lines.map((l) => {
        const max = disposable(l);
        const n = Math.min(draft.qty[l.gnum] || 0, max);
        const suggested = Math.min(max, failedGrades(l));
        return h('li', { class: ['line', max === 0 ? 'line-none' : null], 'data-gnum': l.gnum, 'data-testid': `line-${l.gnum}` },
          lineTitle(l),
          h('div', { class: 'line-count' },
            h('span', { class: 'of' }, t('dispose.of', { n, max })),
            max > 0 ? counter({
              value: n, max, name: l.gname || l.gcode, testid: `${l.gnum}`,
              onChange: (v) => { draft.qty[l.gnum] = v; save(); drawLines(); drawSubmit(); },
            }) : h('span', { class: 'muted' }, t('dispose.nothing'))),
          suggested > 0 ? h('button', {
            type: 'button', class: 'btn secondary', 'data-action': 'failed', 'data-gnum': l.gnum,
            onclick: () => { draft.qty[l.gnum] = suggested; save(); drawLines(); drawSubmit(); },
          }, t('dispose.failed_ones', { n: suggested })) : null,
          max > 0 ? h('button', {
            type: 'button', class: 'btn secondary', 'data-action': 'all', 'data-gnum': l.gnum,
            onclick: () => { draft.qty[l.gnum] = max; save(); drawLines(); drawSubmit(); },
          }, t('dispose.all', { n: max })) : null);
      }));
    }

    function total() {
      return r.lines.reduce((a, l) => a + Math.min(draft.qty[l.gnum] || 0, disposable(l)), 0);
    }

    function drawSubmit() {
      submitBtn.disabled = !(draft.route && draft.reference.trim() && total() > 0);
    }

    async function submit() {
      if (!draft.route || !draft.reference.trim()) {
        fail(t('dispose.incomplete'));
        return;
      }
      let queued = false;
      for (const l of r.lines) {
        const qty = Math.min(draft.qty[l.gnum] || 0, disposable(l));
        if (!qty) continue;
        const res = await perform({
          path: `/returns/${seg(id)}/dispose`, button: submitBtn, context: 'dispose',
          body: { gnum: l.gnum, qty, route: draft.route, reference: draft.reference.trim() },
          label: { k: 'op.dispose', v: { id, gnum: l.gnum, qty, route: label('route', draft.route) } },
        });
        if (!res) {
          if (ctx.alive()) {
            drawLines();
            drawSubmit();
          }
          return;
        }
        // The action is made (sent or queued): it must leave the draft even if the screen is gone.
        delete draft.qty[l.gnum];
        save();
        if (!ctx.alive()) return;
        if (res.state === 'queued') queued = true;
        else if (res.data) r = res.data;
      }
      clearDraft('dispose', id);
      if (queued) {
        say(t('outbox.queued'), 'warn');
        navigate('#/');
        return;
      }
      const waiting = NEEDS_APPROVAL.includes(draft.route);
      ok(waiting ? t('dispose.done_pending', { id }) : t('dispose.done', { id }));
      // Back to the return: its state (closed once every unit is settled) and its disposals.
      navigate(`#/r/${seg(id)}`);
    }

    ctx.onScan = async (code) => {
      const res = await resolveCode(code, id);
      if (res.line && (!res.return || res.return.id === id)) {
        const line = r.lines.find((l) => l.gnum === res.line.gnum);
        if (line && (draft.qty[line.gnum] || 0) < disposable(line)) {
          draft.qty[line.gnum] = (draft.qty[line.gnum] || 0) + 1;
          save();
          drawLines();
          drawSubmit();
          ok(t('dispose.counted', { name: line.gname || line.gcode }));
        } else {
          fail(t('dispose.at_max', { name: res.line.gname || res.line.gcode }));
        }
        return true;
      }
      routeResolved(res);
      return true;
    };

    fill(ctx.view,
      returnHeader(r, { compact: true }),
      r.late ? h('p', { class: 'card warn-card', role: 'note' }, t('dispose.late')) : null,
      h('section', { class: 'card' }, h('h2', {}, t('dispose.route')), routeBox, approvalNote,
        field(t('dispose.reference'), reference, t('dispose.reference_hint'))),
      linesBox,
      doneBox);
    const existing = disposalsPart(r);
    if (existing) doneBox.append(existing);
    drawRoutes();
    drawLines();
    drawSubmit();
    ctx.setActions(submitBtn);
  },
};
