// Modal questions with big buttons: confirm (yes/no) and a reason prompt.
// When a dialog closes, the page is asked to put the focus back on the scan field.
import { h, fill } from './dom.js';
import { t } from './i18n/index.js';

function dialogEl() {
  let el = document.getElementById('dialog');
  if (!el) {
    el = h('dialog', { id: 'dialog', class: 'dialog', 'aria-labelledby': 'dialog-title' });
    document.body.append(el);
  }
  return el;
}

function open(build) {
  const el = dialogEl();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      if (el.open) el.close();
      resolve(value);
      window.dispatchEvent(new CustomEvent('br:refocus'));
    };
    el.onclose = () => finish(null);
    el.oncancel = (e) => {
      e.preventDefault();
      finish(null);
    };
    fill(el, build(finish));
    el.showModal();
    const first = el.querySelector('textarea, input, select') || el.querySelector('[data-action="dialog-ok"]');
    if (first) first.focus();
  });
}

/**
 * Asks a yes/no question. body may be a string or nodes. Resolves true / false.
 */
export async function confirmDialog({ title, body, okText, cancelText, danger = false }) {
  const answer = await open((finish) => h('form', {
    method: 'dialog',
    class: 'dialog-form',
    onsubmit: (e) => {
      e.preventDefault();
      finish(true);
    },
  },
  h('h2', { id: 'dialog-title' }, title),
  body ? h('div', { class: 'dialog-body' }, body) : null,
  h('div', { class: 'dialog-buttons' },
    h('button', { type: 'button', class: 'btn big secondary', 'data-action': 'dialog-cancel', onclick: () => finish(false) }, cancelText || t('common.cancel')),
    h('button', { type: 'submit', class: ['btn big', danger ? 'danger' : 'primary'], 'data-action': 'dialog-ok' }, okText || t('common.ok')))));
  return answer === true;
}

/**
 * Asks for a reason (free text). Resolves the trimmed text, or null when cancelled.
 * With required, OK stays disabled until something is written.
 */
/**
 * Asks for a line of text (a reason by default). `secret`: a new password instead, hidden as
 * it is typed and at least `minLength` characters.
 */
export async function promptDialog({ title, body, inputLabel, okText, required = true, danger = false, secret = false, minLength = 0 }) {
  return open((finish) => {
    const input = secret
      ? h('input', { id: 'dialog-input', name: 'password', type: 'password', required, minlength: minLength, autocomplete: 'new-password' })
      : h('textarea', { id: 'dialog-input', name: 'reason', rows: 3, required, autocomplete: 'off' });
    const okBtn = h('button', { type: 'submit', class: ['btn big', danger ? 'danger' : 'primary'], 'data-action': 'dialog-ok', disabled: required }, okText || t('common.ok'));
    const short = () => (required && !input.value.trim()) || [...input.value].length < minLength;
    input.addEventListener('input', () => {
      okBtn.disabled = short();
    });
    return h('form', {
      method: 'dialog',
      class: 'dialog-form',
      onsubmit: (e) => {
        e.preventDefault();
        if (short()) return;
        finish(secret ? input.value : input.value.trim());
      },
    },
    h('h2', { id: 'dialog-title' }, title),
    body ? h('div', { class: 'dialog-body' }, body) : null,
    h('div', { class: 'field' }, h('label', { for: 'dialog-input' }, inputLabel || t('common.reason')), input),
    h('div', { class: 'dialog-buttons' },
      h('button', { type: 'button', class: 'btn big secondary', 'data-action': 'dialog-cancel', onclick: () => finish(null) }, t('common.cancel')),
      okBtn));
  });
}
