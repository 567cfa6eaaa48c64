// Inspecting: for each line, big +/− counters per grade that must add up to the quantity
// received on that line before the inspection can be submitted.
import { h, fill } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, seg } from '../api.js';
import { loadDraft, saveDraft, clearDraft } from '../store.js';
import { fail, ok } from '../feedback.js';
import { perform } from '../actions.js';
import { returnHeader, counter, lineTitle, bigButton } from '../components.js';
import { resolveCode, routeResolved } from '../scanflow.js';
import { navigate } from '../router.js';

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
    const r = await get(`/returns/${seg(id)}`);
    if (!ctx.alive()) return;
    const saved = loadDraft('inspect', id);
    const draft = { grades: {}, ...(saved || {}) };
    for (const l of r.lines) draft.grades[l.gnum] = { ...emptyGrades(), ...(draft.grades[l.gnum] || {}) };
    const save = () => saveDraft('inspect', id, draft);

    const box = h('ul', { class: 'lines grading' });
    const status = h('p', { class: 'summary', id: 'inspect-summary', 'aria-live': 'polite' });
    const submitBtn = bigButton(t('inspect.submit'), { id: 'submit', 'data-action': 'submit', onclick: () => submit() });

    const sumOf = (gnum) => GRADES.reduce((a, g) => a + draft.grades[gnum][g], 0);
    const complete = () => r.lines.every((l) => sumOf(l.gnum) === receivedQty(l));

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
    }

    async function submit() {
      if (!complete()) {
        fail(t('inspect.not_ready'));
        return;
      }
      const body = { lines: r.lines.map((l) => ({ gnum: l.gnum, ...draft.grades[l.gnum] })) };
      const res = await perform({
        path: `/returns/${seg(id)}/inspect`, body, button: submitBtn, context: 'inspect',
        label: { k: 'op.inspect', v: { id } }, okText: t('inspect.done', { id }),
      });
      if (!res) {
        if (ctx.alive()) draw();
        return;
      }
      clearDraft('inspect', id);
      if (!ctx.alive()) return;
      navigate(res.state === 'done' ? `#/r/${seg(id)}` : '#/');
    }

    ctx.onScan = async (code) => {
      // Scanning an item of this parcel jumps to its line; anything else is handled as usual.
      const res = await resolveCode(code, id);
      if (res.line && (!res.return || res.return.id === id)) {
        const li = box.querySelector(`[data-gnum="${CSS.escape(String(res.line.gnum))}"]`);
        if (li) li.scrollIntoView({ block: 'center' });
        ok(t('inspect.line_found', { name: res.line.gname || res.line.gcode }));
        return true;
      }
      routeResolved(res);
      return true;
    };

    fill(ctx.view, returnHeader(r, { compact: true }), h('p', { class: 'instruction' }, t('inspect.instruction')), box, status);
    ctx.setActions(submitBtn);
    draw();
  },
};
