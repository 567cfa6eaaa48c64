// Feedback a worker can hear and feel with gloves on and eyes on the parcel:
// success = one short high tone + short vibration + green flash;
// error   = a low double tone + long vibration + red flash; and the message in plain words.
import { h, fill } from './dom.js';

let audioCtx = null;

function hasUserActivation() {
  // Browsers refuse sound and vibration (with a console complaint) before the first tap or key.
  const ua = navigator.userActivation;
  return ua ? ua.hasBeenActive : true;
}

function audio() {
  if (!hasUserActivation()) return null;
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return null;
  if (!audioCtx) {
    try {
      audioCtx = new AC();
    } catch {
      return null;
    }
  }
  if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
  return audioCtx;
}

function tone(freq, at, duration, type) {
  const ctx = audio();
  if (!ctx) return;
  const start = ctx.currentTime + at;
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = type;
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.25, start + 0.01);
  gain.gain.setValueAtTime(0.25, start + duration - 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + duration);
  osc.connect(gain).connect(ctx.destination);
  osc.start(start);
  osc.stop(start + duration + 0.02);
}

function vibrate(pattern) {
  if (typeof navigator.vibrate === 'function' && hasUserActivation()) {
    try {
      navigator.vibrate(pattern);
    } catch {
      // Some browsers throw inside iframes; vibration is a bonus.
    }
  }
}

function flash(kind) {
  const el = document.getElementById('flash');
  if (!el) return;
  el.className = '';
  // Restart the CSS animation even when the same kind flashes twice in a row.
  void el.offsetWidth;
  el.className = `flash-${kind}`;
}

export function signalOk() {
  tone(1760, 0, 0.09, 'sine');
  vibrate(60);
  flash('ok');
}

export function signalError() {
  tone(220, 0, 0.16, 'square');
  tone(220, 0.24, 0.16, 'square');
  vibrate(600);
  flash('error');
}

/**
 * Shows a message in the message area (#message). kind: ok | error | info | warn.
 * detail: a second, smaller line; fields: [{field, message}] from a validation problem.
 */
export function say(text, kind = 'info', { detail, fields } = {}) {
  const el = document.getElementById('message');
  if (!el) return;
  el.dataset.kind = kind;
  el.dataset.at = String(Date.now());
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  fill(el,
    h('p', { class: 'message-text' }, text),
    detail ? h('p', { class: 'message-detail' }, detail) : null,
    fields && fields.length
      ? h('ul', { class: 'message-fields' }, fields.map((f) => h('li', {}, f.field ? `${f.field}: ${f.message}` : f.message)))
      : null);
  el.hidden = false;
  // An error must be read: when the page is scrolled down (a button at the bottom was tapped),
  // bring the message into view under the scan bar.
  if (kind === 'error') {
    const top = el.getBoundingClientRect().top;
    const sticky = document.getElementById('scanbar');
    const covered = sticky && !sticky.hidden ? sticky.getBoundingClientRect().bottom : 0;
    if (top < covered || top > window.innerHeight) el.scrollIntoView({ block: 'nearest' });
  }
}

export function clearMessage() {
  const el = document.getElementById('message');
  if (!el) return;
  el.hidden = true;
  el.dataset.kind = '';
  el.replaceChildren();
}

export function ok(text, opts) {
  signalOk();
  if (text) say(text, 'ok', opts);
}

export function fail(text, opts) {
  signalError();
  say(text, 'error', opts);
}
