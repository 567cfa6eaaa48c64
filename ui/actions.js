// Making an action from a screen: through the outbox (key made now, stored, then sent),
// with the button disabled meanwhile so that a second tap cannot make a second action.
import { submit } from './outbox.js';
import { request } from './api.js';
import { ok, say, signalOk } from './feedback.js';
import { showError, markFields } from './errors.js';
import { t } from './i18n/index.js';

/**
 * Resolves {state:'done', data} or {state:'queued'}; null when the server refused
 * (the refusal has then been shown, with field messages on `form` if given).
 * direct: send now without storing it on the device (for bodies holding a password).
 * onRefused(err): called with the server's refusal after it has been shown.
 */
export async function perform({ method = 'POST', path, body, label, okText, context, form, button, vars, direct = false, onRefused }) {
  const buttons = [].concat(button || []);
  for (const b of buttons) b.disabled = true;
  try {
    const res = direct
      ? { state: 'done', data: await request(method, path, { body }) }
      : await submit({ method, path, body, label });
    if (form) markFields(form, null);
    if (res.state === 'queued' && res.reason === 'unauthenticated') {
      say(t('err.unauthenticated'), 'warn');
    } else if (res.state === 'queued') {
      signalOk();
      say(t('outbox.queued'), 'warn');
    } else if (okText) {
      ok(okText);
    } else {
      signalOk();
    }
    return res;
  } catch (err) {
    showError(err, context, vars);
    if (form) markFields(form, err);
    if (onRefused) onRefused(err);
    return null;
  } finally {
    for (const b of buttons) if (b.isConnected) b.disabled = false;
  }
}
