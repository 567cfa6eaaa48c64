// The outbox on screen. First what needs attention: actions made on this device that the
// server refused when they were sent (a customs hold, an exclusion, another worker was first…),
// each with its parcel, the step and the reason in the reader's language, and the later steps
// of that parcel held back with it; each can be opened or dismissed. Then the actions not yet
// answered, in the order they will be sent.
import { h, fill } from '../dom.js';
import { t } from '../i18n/index.js';
import { subscribe, retryNow, discard } from '../outbox.js';
import { fmtTime, opLabel } from '../format.js';
import { describe } from '../errors.js';
import { ApiError, seg } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { bigButton, sectionTitle } from '../components.js';

/** Why the server refused an action, in words (or why it was held back). */
function reasonOf(op, all) {
  if (op.problem?.code === 'blocked_by_refusal') {
    const first = all.find((o) => o.seq === op.problem.blocked_by);
    return t('attention.blocked', { step: first ? opLabel(first) : `#${op.problem.blocked_by}` });
  }
  if (op.problem?.code === 'held') {
    return op.problem.hold_reason ? t('attention.held', { reason: op.problem.hold_reason }) : t('err.held');
  }
  return describe(new ApiError(op.problem?.status || 0, op.problem)).text;
}

function dismissButton(op, failed) {
  return h('button', {
    type: 'button', class: 'btn secondary', 'data-action': 'discard',
    onclick: async () => {
      const yes = await confirmDialog({
        title: t(failed ? 'attention.dismiss_title' : 'pending.discard_title'),
        body: opLabel(op),
        okText: t(failed ? 'pending.dismiss' : 'pending.discard'),
        danger: !failed,
      });
      if (yes) await discard(op.seq);
    },
  }, t(failed ? 'pending.dismiss' : 'pending.discard'));
}

function attentionRow(op, all) {
  return h('li', { class: ['op', 'op-failed'], 'data-testid': `attention-${op.seq}`, 'data-key': op.key, 'data-return': op.return_id || null },
    h('div', { class: 'op-head' }, h('strong', {}, opLabel(op))),
    h('p', { class: 'op-reason', 'data-testid': 'attention-reason' }, reasonOf(op, all)),
    h('small', { class: 'muted' }, t('attention.when', { made: fmtTime(op.made_at), refused: fmtTime(op.refused_at || op.last_try || op.made_at) })),
    h('div', { class: 'button-row' },
      op.return_id ? h('a', { class: 'btn primary', href: `#/r/${seg(op.return_id)}`, 'data-action': 'open-parcel' }, t('attention.open')) : null,
      dismissButton(op, true)));
}

function pendingRow(op, snap, me) {
  const mine = op.user === me.username;
  const status = !mine ? t('pending.other_user', { user: op.user })
    : snap.sendingKey === op.key ? t('pending.sending')
      : op.last_error ? t('pending.waiting_retry', { n: op.attempts }) : t('pending.waiting');
  return h('li', { class: ['op', 'op-pending'], 'data-testid': `op-${op.seq}`, 'data-key': op.key },
    h('div', { class: 'op-head' }, h('strong', {}, opLabel(op)), h('span', { class: 'op-status' }, status)),
    h('small', { class: 'muted' }, t('pending.made_at', { at: fmtTime(op.made_at), user: op.user || '—' })),
    h('small', { class: 'muted code' }, op.key),
    !mine ? dismissButton(op, false) : null);
}

export default {
  title: 'pending.title',
  handheld: true,
  async render(ctx) {
    const attention = h('ol', { class: 'ops', id: 'attention-list' });
    const attentionBox = h('section', { class: 'card warn-card attention', id: 'attention', 'data-testid': 'attention', hidden: true },
      sectionTitle(t('attention.title')), h('p', { class: 'muted' }, t('attention.intro')), attention);
    const list = h('ol', { class: 'ops', id: 'pending-list' });
    const summary = h('p', { 'aria-live': 'polite' });
    fill(ctx.view, h('h1', {}, t('pending.title')), attentionBox,
      h('section', {}, sectionTitle(t('pending.queue')), h('p', { class: 'muted' }, t('pending.intro')), summary, list));
    ctx.setActions(bigButton(t('pending.retry'), { 'data-action': 'retry', id: 'retry', onclick: () => retryNow() }));
    const unsubscribe = subscribe((snap) => {
      if (!ctx.alive()) return;
      const failed = snap.ops.filter((o) => o.state === 'failed' && o.user === ctx.me.username);
      const waiting = snap.ops.filter((o) => !(o.state === 'failed' && o.user === ctx.me.username));
      attentionBox.hidden = failed.length === 0;
      fill(attention, failed.map((op) => attentionRow(op, snap.ops)));
      summary.textContent = t('pending.summary', { n: snap.pending, f: snap.failed });
      fill(list, waiting.length
        ? waiting.map((op) => (op.state === 'failed' ? attentionRow(op, snap.ops) : pendingRow(op, snap, ctx.me)))
        : h('li', { class: 'empty' }, t('pending.none')));
    });
    ctx.destroy = unsubscribe;
  },
};
