// Customs hold and release, with the reason asked for every time (supervisors only).
import { t } from './i18n/index.js';
import { seg } from './api.js';
import { perform } from './actions.js';
import { promptDialog } from './dialog.js';

export const OPEN_STATES = ['declared', 'received', 'sorted', 'inspected'];

/** Which of hold/release applies to a return now, or null. */
export function holdAction(r) {
  if (r.held || r.state === 'held') return 'release';
  return OPEN_STATES.includes(r.state) ? 'hold' : null;
}

/** Asks the reason and sends hold or release; resolves the perform() result, or null. */
export async function holdOrRelease(kind, r, button) {
  const reason = await promptDialog({
    title: t(`hold.${kind}_title`, { id: r.id }),
    inputLabel: t('hold.reason'),
    okText: t(`hold.${kind}`),
    danger: kind === 'hold',
  });
  if (reason === null) return null;
  return perform({
    path: `/returns/${seg(r.id)}/${kind}`, body: { reason }, button, context: kind,
    label: { k: `op.${kind}`, v: { id: r.id } }, okText: t(`hold.${kind}_done`, { id: r.id }),
  });
}
