// The outbox on screen: actions made on this device and not yet answered by the server,
// in the order they will be sent, and those the server refused (to be read and dismissed).
import { h, fill } from '../dom.js';
import { t } from '../i18n/index.js';
import { subscribe, retryNow, discard } from '../outbox.js';
import { fmtTime, opLabel } from '../format.js';
import { describe } from '../errors.js';
import { ApiError } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { bigButton } from '../components.js';

function opRow(op, snap, me) {
  const mine = op.user === me.username;
  const failed = op.state === 'failed';
  const status = failed ? t('pending.failed')
    : !mine ? t('pending.other_user', { user: op.user })
      : snap.sendingKey === op.key ? t('pending.sending')
        : op.last_error ? t('pending.waiting_retry', { n: op.attempts }) : t('pending.waiting');
  const reason = failed ? describe(new ApiError(op.problem?.status || 0, op.problem)).text : null;
  return h('li', { class: ['op', failed ? 'op-failed' : 'op-pending'], 'data-testid': `op-${op.seq}`, 'data-key': op.key },
    h('div', { class: 'op-head' }, h('strong', {}, opLabel(op)), h('span', { class: 'op-status' }, status)),
    h('small', { class: 'muted' }, t('pending.made_at', { at: fmtTime(op.made_at), user: op.user || '—' })),
    h('small', { class: 'muted code' }, op.key),
    reason ? h('p', { class: 'op-reason' }, reason) : null,
    failed || !mine ? h('button', {
      type: 'button', class: 'btn secondary', 'data-action': 'discard',
      onclick: async () => {
        const yes = await confirmDialog({ title: t('pending.discard_title'), body: opLabel(op), okText: t('pending.discard'), danger: true });
        if (yes) await discard(op.seq);
      },
    }, t(failed ? 'pending.dismiss' : 'pending.discard')) : null);
}

export default {
  title: 'pending.title',
  handheld: true,
  async render(ctx) {
    const list = h('ol', { class: 'ops', id: 'pending-list' });
    const summary = h('p', { 'aria-live': 'polite' });
    fill(ctx.view, h('h1', {}, t('pending.title')), h('p', { class: 'muted' }, t('pending.intro')), summary, list);
    ctx.setActions(bigButton(t('pending.retry'), { 'data-action': 'retry', id: 'retry', onclick: () => retryNow() }));
    const unsubscribe = subscribe((snap) => {
      if (!ctx.alive()) return;
      summary.textContent = t('pending.summary', { n: snap.pending, f: snap.failed });
      fill(list, snap.ops.length ? snap.ops.map((op) => opRow(op, snap, ctx.me)) : h('li', { class: 'empty' }, t('pending.none')));
    });
    ctx.destroy = unsubscribe;
  },
};
