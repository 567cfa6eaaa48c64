// The frame around every screen: header (navigation by role, pending counter, language,
// sign-out), the scan bar on handheld screens, the message area, the view and the bottom
// action bar.
import { h, fill } from './dom.js';
import { t, label, getLang } from './i18n/index.js';
import { cameraSupported } from './scan.js';
import { pref } from './store.js';
import { isOnline } from './api.js';
import { fmtTime } from './format.js';

const NAV = {
  floor: [['#/', 'nav.home'], ['#/restock', 'nav.restock'], ['#/list', 'nav.list']],
  supervisor: [['#/dashboard', 'nav.dashboard'], ['#/returns', 'nav.returns'], ['#/approvals', 'nav.approvals'],
    ['#/audit', 'nav.audit'], ['#/exports', 'nav.exports'], ['#/tokens', 'nav.tokens']],
  admin: [['#/dashboard', 'nav.dashboard'], ['#/returns', 'nav.returns'], ['#/audit', 'nav.audit'],
    ['#/exports', 'nav.exports'], ['#/admin/enterprises', 'nav.enterprises'],
    ['#/admin/warehouses', 'nav.warehouses'], ['#/admin/users', 'nav.users'], ['#/tokens', 'nav.tokens']],
};

/** Builds the frame once; returns the elements the app talks to. */
export function buildShell(root) {
  const el = {};
  el.flash = h('div', { id: 'flash', 'aria-hidden': 'true' });
  el.brandName = h('span', { class: 'brand-name' });
  el.who = h('span', { id: 'whoami', class: 'whoami' });
  el.brand = h('a', { class: 'brand', href: '#/', id: 'brand' }, el.brandName, el.who);
  el.nav = h('nav', { id: 'nav', class: 'nav', 'aria-label': 'main' });
  el.pending = h('a', { id: 'pending', class: 'pending', href: '#/pending', 'data-count': '0', 'data-failed': '0' });
  el.lang = h('button', { type: 'button', id: 'lang', class: 'btn small ghost', 'data-action': 'lang' });
  el.signout = h('button', { type: 'button', id: 'signout', class: 'btn small ghost', 'data-action': 'signout' });
  el.header = h('header', { class: 'topbar', id: 'topbar' },
    h('div', { class: 'topbar-row' }, el.brand, el.pending, el.lang, el.signout),
    h('div', { class: 'topbar-row second' }, el.nav));

  el.scan = h('input', {
    id: 'scan', name: 'scan', type: 'text', class: 'scan-input', autocomplete: 'off', autocapitalize: 'off',
    autocorrect: 'off', spellcheck: 'false', enterkeyhint: 'go', 'data-testid': 'scan',
  });
  el.scanLabel = h('label', { for: 'scan', class: 'scan-label' });
  el.camera = h('button', { type: 'button', id: 'camera-scan', class: 'btn scan-side secondary', 'data-action': 'camera', hidden: !cameraSupported() });
  el.keyboard = h('button', { type: 'button', id: 'keyboard-toggle', class: 'btn scan-side ghost', 'data-action': 'keyboard', 'aria-pressed': 'false' });
  el.confirmCode = h('strong', { class: 'code xl', id: 'scan-confirm-code' });
  el.confirm = h('button', { type: 'button', id: 'scan-confirm', class: 'btn big primary', 'data-action': 'confirm-scan' });
  el.cancel = h('button', { type: 'button', id: 'scan-cancel', class: 'btn big secondary', 'data-action': 'cancel-scan' });
  el.confirmText = h('p', { class: 'confirm-text' });
  el.confirmBox = h('div', { id: 'scan-confirm-box', class: 'scan-confirm', hidden: true, role: 'alertdialog', 'aria-labelledby': 'scan-confirm-code' },
    el.confirmText, el.confirmCode, h('div', { class: 'button-row' }, el.cancel, el.confirm));
  el.scanBusy = h('span', { class: 'scan-busy', id: 'scan-busy', hidden: true, role: 'status' });
  el.scanbar = h('section', { id: 'scanbar', class: 'scanbar', hidden: true },
    h('form', { class: 'scan-form', onsubmit: (e) => e.preventDefault() },
      el.scanLabel,
      h('div', { class: 'scan-row' }, el.scan, el.camera, el.keyboard)),
    el.scanBusy,
    el.confirmBox);
  // Said as long as the server cannot be reached: work goes on, on the device.
  el.offline = h('div', { id: 'offline-banner', class: 'offline-banner', hidden: true, role: 'status', 'data-testid': 'offline-banner' });
  el.message = h('div', { id: 'message', class: 'message', hidden: true, 'aria-live': 'polite', 'data-testid': 'message' });
  el.view = h('main', { id: 'view', class: 'view', tabindex: '-1' });
  el.actions = h('footer', { id: 'actions', class: 'actions' });
  fill(root, el.flash, el.header, el.offline, el.scanbar, el.message, el.view, el.actions);
  return el;
}

/** Re-writes every text of the frame (after sign-in, sign-out or a language switch). */
export function renderShell(el, me, hash) {
  document.body.dataset.role = me ? me.role : 'none';
  el.brandName.textContent = t('app.short');
  el.brand.title = t('app.name');
  el.lang.textContent = getLang() === 'zh' ? 'EN' : '中文';
  el.lang.setAttribute('aria-label', t('shell.switch_language'));
  el.signout.textContent = t('shell.signout');
  el.signout.hidden = !me;
  el.pending.hidden = !me;
  // Name and warehouse: on one line at a desk, one above the other on a handheld.
  fill(el.who, ...(me ? [h('span', {}, me.username), me.warehouse ? h('span', { class: 'who-wh' }, h('span', { class: 'who-sep' }, ' · '), me.warehouse) : null] : []));
  el.who.title = me ? label('role', me.role) : '';
  el.who.hidden = !me;
  el.scanLabel.textContent = t('scan.label');
  el.scan.placeholder = t('scan.placeholder');
  el.camera.textContent = t('scan.camera');
  el.confirmText.textContent = t('scan.confirm_text');
  el.confirm.textContent = t('scan.confirm');
  el.cancel.textContent = t('common.cancel');
  setKeyboardMode(el, pref('keyboard', defaultKeyboard()));
  fill(el.nav, me ? (NAV[me.role] || []).map(([href, key]) => {
    const active = href === '#/' ? hash === '#/' || hash === '' : hash.startsWith(href);
    return h('a', { href, class: 'nav-link', 'aria-current': active ? 'page' : null }, t(key));
  }) : null);
}

/** Handhelds without a hardware keyboard should not pop up the on-screen one at every refocus. */
export function defaultKeyboard() {
  return window.matchMedia && window.matchMedia('(pointer: coarse)').matches ? 'off' : 'on';
}

export function setKeyboardMode(el, mode) {
  el.scan.setAttribute('inputmode', mode === 'off' ? 'none' : 'text');
  el.keyboard.setAttribute('aria-pressed', mode === 'off' ? 'false' : 'true');
  el.keyboard.textContent = t('scan.keyboard');
  el.keyboard.title = t('scan.keyboard_hint');
}

/** The pending counter in the header. */
export function renderPending(el, snap) {
  el.pending.dataset.count = String(snap.pending);
  el.pending.dataset.failed = String(snap.failed);
  // What waits to be sent, and under it what the server refused (needs attention).
  const parts = [];
  if (snap.pending || !snap.failed) parts.push(t('shell.pending', { n: snap.pending }));
  if (snap.failed) parts.push(t('shell.attention', { f: snap.failed }));
  const offline = !isOnline();
  el.pending.dataset.offline = offline ? 'true' : 'false';
  // Offline, the counter turns amber and the banner under the header says so in words.
  fill(el.pending, ...parts.map((p) => h('span', {}, p)));
  const said = t('shell.pending_label', { n: snap.pending, f: snap.failed });
  el.pending.setAttribute('aria-label', offline ? `${t('shell.offline')} · ${said}` : said);
}

/**
 * The offline banner: shown while the server cannot be reached, with what still works and how
 * old the device's copy of the warehouse's work is.
 */
export function renderOffline(el, { online, me, copy }) {
  const show = Boolean(me) && !online;
  // What the device has, said even while online (for the browser tests and for support).
  el.offline.dataset.copyCount = copy ? String(copy.count ?? 0) : '';
  el.offline.dataset.copyAt = copy?.fetched_at || '';
  el.offline.hidden = !show;
  document.body.classList.toggle('offline', show);
  if (!show) return;
  const parts = [t('offline.banner')];
  if (me.role === 'floor') {
    parts.push(copy && copy.fetched_at
      ? t('offline.copy', { at: fmtTime(copy.fetched_at), n: copy.count ?? 0 })
      : t('offline.no_copy'));
  }
  el.offline.textContent = parts.join(' ');
}
