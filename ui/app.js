// The application: session, routes, the frame, the always-focused scan field, the pending
// counter and the offline banner. Screens live in screens/ and are loaded when first shown.
// Installed and offline: the service worker (sw.js) keeps every file of this build, the local
// copy (localcopy.js) the warehouse's open work, the outbox (outbox.js) what was done.
import { h, fill } from './dom.js';
import { t, setLang, getLang } from './i18n/index.js';
import { get, request, ApiError, isOnline, probe } from './api.js';
import { setOutboxUser, subscribe } from './outbox.js';
import { setStoreUser, cachedMe, cacheMe, setPref, pref, listDrafts } from './store.js';
import { getMeta, setMeta } from './idb.js';
import { startLocalCopy, forgetLocalCopy, refreshCopy, onCopyChange, copyStatus } from './localcopy.js';
import { attachScanner, scanWithCamera } from './scan.js';
import { say, fail, clearMessage } from './feedback.js';
import { showError, describe } from './errors.js';
import { buildShell, renderShell, renderPending, renderOffline, setKeyboardMode, defaultKeyboard } from './shell.js';
import { route, match, parseHash, navigate, hashWith, takeAppNavigation } from './router.js';
import { defaultScan } from './scanflow.js';
import { opLabel } from './format.js';
import { loading } from './components.js';

const ALL = ['floor', 'supervisor', 'admin'];

route('/signin', () => import('./screens/signin.js'));
route('/', () => import('./screens/home.js'));
route('/r/:id', () => import('./screens/return.js'));
route('/r/:id/receive', () => import('./screens/return.js'));
route('/r/:id/label', () => import('./screens/label.js'));
route('/r/:id/sort', () => import('./screens/sort.js'));
route('/r/:id/inspect', () => import('./screens/inspect.js'));
route('/r/:id/dispose', () => import('./screens/dispose.js'));
route('/restock', () => import('./screens/restock.js'));
route('/list', () => import('./screens/list.js'));
route('/pending', () => import('./screens/pending.js'));
route('/dashboard', () => import('./screens/dashboard.js'));
route('/returns', () => import('./screens/returns.js'));
route('/approvals', () => import('./screens/approvals.js'));
route('/audit', () => import('./screens/audit.js'));
route('/exports', () => import('./screens/exports.js'));
route('/admin/enterprises', () => import('./screens/enterprises.js'));
route('/admin/enterprises/:code', () => import('./screens/enterprise.js'));
route('/admin/warehouses', () => import('./screens/warehouses.js'));
route('/admin/warehouses/:code', () => import('./screens/warehouse.js'));
route('/admin/users', () => import('./screens/users.js'));
route('/tokens', () => import('./screens/tokens.js'));

const el = buildShell(document.getElementById('app'));

// The scan bar and the action bar stick to the top and bottom of the screen; the page's
// scroll padding follows their heights so nothing scrolled into view hides behind them.
function trackStickyHeights() {
  const root = document.documentElement.style;
  const update = () => {
    root.setProperty('--sticky-top', `${el.scanbar.offsetHeight}px`);
    root.setProperty('--sticky-bottom', `${el.actions.offsetHeight}px`);
  };
  if (typeof ResizeObserver === 'function') {
    const ro = new ResizeObserver(update);
    ro.observe(el.scanbar);
    ro.observe(el.actions);
  }
  update();
}
trackStickyHeights();

let me = null;
let copy = null;        // what the local copy of the warehouse's work holds (localcopy.js)
let current = null;     // the ctx of the screen on show
let renderToken = 0;
let scanChain = Promise.resolve();
let lastSnap = { pending: 0, failed: 0 };

// session ----------------------------------------------------------------------------

function setMe(next) {
  me = next;
  cacheMe(next);
  // Kept in IndexedDB too (who, role, warehouse: nothing more), where the outbox and the local
  // copy live, so that a handheld that starts offline knows who it was working for.
  setMeta('me', next ? { username: next.username, role: next.role, warehouse: next.warehouse || null } : null).catch(() => {});
  setStoreUser(next ? next.username : null);
  setOutboxUser(next ? next.username : null);
  startLocalCopy(next);
  if (next) setTimeout(prefetchScreens, 500);
}

// Every screen of the person's role is loaded once at the start, while the network is there:
// a handheld that loses it later can still open them, and a page never mixes its own modules
// with those of a newer build installed meanwhile (service worker).
const FLOOR_PATHS = ['/', '/r/x', '/r/x/label', '/r/x/sort', '/r/x/inspect', '/r/x/dispose', '/restock', '/list', '/pending'];
const DESK_PATHS = ['/dashboard', '/returns', '/approvals', '/audit', '/exports', '/tokens', '/r/x', '/r/x/label',
  '/admin/enterprises', '/admin/enterprises/x', '/admin/warehouses', '/admin/warehouses/x', '/admin/users', '/pending'];
function prefetchScreens() {
  if (navigator.onLine === false || !me) return;
  for (const path of me.role === 'floor' ? FLOOR_PATHS : DESK_PATHS) {
    const m = match(path);
    if (m) m.load().catch(() => {});
  }
}

/** The person last signed in on this device (IndexedDB, else localStorage), or null. */
async function rememberedMe() {
  const kept = await getMeta('me').catch(() => null);
  return kept || cachedMe();
}

async function loadMe() {
  // Without a sign-in remembered on this device there is no session to ask about; skipping
  // the question keeps a 401 out of the console on the sign-in page.
  const remembered = await rememberedMe();
  if (!remembered) return null;
  try {
    return await get('/me');
  } catch (err) {
    // Only the server saying 401 ends the session on this device. Offline at start, or the
    // server away or failing: carry on as the last person signed in here (the server still
    // checks the session on every request, and a 401 then keeps the outbox for the next
    // sign-in).
    if (err instanceof ApiError && err.code === 'unauthenticated') return null;
    return remembered;
  }
}

async function signOut() {
  try {
    await request('DELETE', '/session');
  } catch {
    // Signing out offline still forgets the person on this device.
  }
  // The next person may work in another warehouse: the copy of this one's work goes. What is
  // still to be sent stays (it is sent when its owner signs in again).
  await forgetLocalCopy().catch(() => {});
  setMe(null);
  clearMessage();
  navigate('#/signin');
}

window.addEventListener('br:unauthenticated', () => {
  if (!me) return;
  const here = parseHash().hash;
  setMe(null);
  say(t('err.unauthenticated'), 'error');
  navigate(hashWith('/signin', { next: here }), { replace: true });
});

// routing -----------------------------------------------------------------------------

function homeFor(who) {
  return who && who.role === 'floor' ? '#/' : '#/dashboard';
}

function makeCtx(token, params, query, hash) {
  const ctx = {
    me,
    params,
    query,
    hash,
    view: el.view,
    onScan: null,      // screens set this to claim scans; return false to fall through
    returnId: null,    // the open return, sent to the scan resolver
    destroy: null,
    alive: () => token === renderToken,
    setActions: (...nodes) => {
      if (token !== renderToken) return;
      fill(el.actions, ...nodes);
      el.actions.hidden = el.actions.childElementCount === 0;
    },
    setTitle: (text) => {
      document.title = `${text} · ${t('app.name')}`;
    },
    refresh: () => {
      appMoved = true;
      onRoute();
    },
    signedIn: (who) => {
      setMe(who);
      ctx.me = who;
    },
    homeFor,
  };
  return ctx;
}

function showPlain(text) {
  fill(el.view, h('section', { class: 'card' }, h('p', {}, text), h('a', { class: 'btn big primary', href: homeFor(me) }, t('nav.home'))));
  fill(el.actions);
}

// Resolves when the screen being shown has rendered, so a scan made meanwhile waits for it.
let settleRoute = () => {};
let appMoved = false;   // a screen redrawn by the page itself (ctx.refresh)
let routeSettled = Promise.resolve();

async function onRoute() {
  settleRoute();
  routeSettled = new Promise((resolve) => { settleRoute = resolve; });
  try {
    await showRoute();
  } finally {
    settleRoute();
  }
}

async function showRoute() {
  const token = ++renderToken;
  const { path, query, hash } = parseHash();
  if (me && path !== '/signin') setPref(`last_screen.${me.username}`, { hash, at: Date.now() });
  if (!me && path !== '/signin') {
    navigate(hashWith('/signin', { next: hash === '#/' ? '' : hash }), { replace: true });
    return;
  }
  if (me && path === '/signin') {
    navigate(homeFor(me), { replace: true });
    return;
  }
  if (me && path === '/' && me.role !== 'floor') {
    navigate('#/dashboard', { replace: true });
    return;
  }
  if (current?.destroy) {
    try {
      current.destroy();
    } catch {
      // A screen failing to clean up must not block the next one.
    }
  }
  current = null;
  renderShell(el, me, hash);
  renderPending(el, lastSnap);
  drawOffline();
  // A message said just before the page itself moved on (a step done, a scan resolved) is
  // for the next screen; one from a while ago, or before the person went elsewhere, is not.
  const since = Number(document.getElementById('message')?.dataset.at || 0);
  const byApp = takeAppNavigation() || appMoved;
  appMoved = false;
  if (!byApp || Date.now() - since > 2500) clearMessage();
  const m = match(path);
  if (!m) {
    el.scanbar.hidden = !me || me.role !== 'floor';
    showPlain(t('common.not_found_page'));
    return;
  }
  fill(el.view, loading());
  fill(el.actions);
  let mod;
  try {
    mod = (await m.load()).default;
  } catch {
    if (token !== renderToken) return;
    fail(t('err.network'));
    showPlain(t('err.network'));
    return;
  }
  if (token !== renderToken) return;
  if (me && !(mod.roles || ALL).includes(me.role)) {
    el.scanbar.hidden = true;
    showPlain(t('err.forbidden'));
    return;
  }
  // Handheld screens (the scan bar, big buttons) are for floor staff; supervisors and
  // administrators open the same screens at a desk.
  const handheld = Boolean(mod.handheld) && Boolean(me) && me.role === 'floor';
  el.scanbar.hidden = !handheld;
  document.body.classList.toggle('handheld', handheld);
  document.body.classList.toggle('desk', !handheld);
  const ctx = makeCtx(token, m.params, query, hash);
  ctx.setTitle(t(mod.title || 'app.name'));
  current = ctx;
  ctx.ready = (async () => {
    try {
      await mod.render(ctx);
    } catch (err) {
      if (token !== renderToken) return;
      showError(err);
      const d = describe(err);
      fill(el.view, h('section', { class: 'card error-card' },
        h('p', {}, d.text),
        h('button', { type: 'button', class: 'btn big primary', 'data-action': 'retry', onclick: () => onRoute() }, t('common.retry'))));
    }
  })();
  await ctx.ready;
  if (token === renderToken) refocus();
}

// scanning -------------------------------------------------------------------------------

async function handleScan(code, info) {
  if (!current) await routeSettled;
  const ctx = current;
  if (!me || !ctx) {
    if (me) fail(t('scan.not_now', { code }));
    return;
  }
  el.scanBusy.hidden = false;
  el.scanBusy.textContent = t('scan.busy', { code });
  try {
    await ctx.ready;
    let handled = false;
    if (typeof ctx.onScan === 'function') handled = (await ctx.onScan(code, info)) !== false;
    if (!handled) await defaultScan(code, ctx.returnId);
  } catch (err) {
    showError(err, 'scan', { code });
  } finally {
    el.scanBusy.hidden = true;
    refocus();
  }
}

/** Scans are handled one after another, in the order they came, so none is lost or reordered. */
function queueScan(code, info) {
  scanChain = scanChain.then(() => handleScan(code, info), () => handleScan(code, info));
}

attachScanner({ input: el.scan, box: el.confirmBox, code: el.confirmCode, confirm: el.confirm, cancel: el.cancel }, queueScan);

el.camera.addEventListener('click', async () => {
  try {
    const code = await scanWithCamera();
    if (code) queueScan(code, { source: 'camera' });
  } catch {
    fail(t('scan.camera_failed'));
  }
  refocus();
});

el.keyboard.addEventListener('click', () => {
  const next = pref('keyboard', defaultKeyboard()) === 'off' ? 'on' : 'off';
  setPref('keyboard', next);
  setKeyboardMode(el, next);
  el.scan.blur();
  el.scan.focus();
});

// keeping the scan field focused ---------------------------------------------------------------

function isTextEntry(node) {
  if (!node || node === document.body) return false;
  if (node.isContentEditable) return true;
  const tag = node.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  return !['button', 'submit', 'reset', 'checkbox', 'radio', 'range', 'color', 'file'].includes(node.type);
}

function refocus() {
  if (el.scanbar.hidden || !me) return;
  if (document.querySelector('dialog[open]') || document.getElementById('camera-overlay')) return;
  if (isTextEntry(document.activeElement)) return;
  el.scan.focus({ preventScroll: true });
}

function refocusSoon() {
  setTimeout(refocus, 0);
}

document.addEventListener('click', refocusSoon);
document.addEventListener('change', (e) => {
  if (e.target && e.target.tagName === 'SELECT') setTimeout(() => {
    if (!el.scanbar.hidden) el.scan.focus({ preventScroll: true });
  }, 0);
});
document.addEventListener('focusout', () => setTimeout(() => {
  if (!document.activeElement || document.activeElement === document.body) refocus();
}, 0));
window.addEventListener('br:refocus', refocusSoon);
window.addEventListener('focus', refocusSoon);
document.addEventListener('keydown', (e) => {
  // A scanner firing while nothing has the focus still lands in the scan field.
  if (el.scanbar.hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  if (document.activeElement && document.activeElement !== document.body) return;
  if (e.key.length === 1) el.scan.focus({ preventScroll: true });
});

// frame buttons and the outbox ---------------------------------------------------------------

el.lang.addEventListener('click', () => {
  setLang(getLang() === 'zh' ? 'en' : 'zh');
  // The last message was said in the other language.
  clearMessage();
  onRoute();
});

el.signout.addEventListener('click', signOut);

subscribe((snap) => {
  lastSnap = snap;
  renderPending(el, snap);
  drawOffline();
  if (!snap.event) return;
  if (snap.event.type === 'sent') {
    say(t('outbox.sent', { label: opLabel(snap.event.op) }), 'ok');
  } else if (snap.event.type === 'failed') {
    const d = describe(snap.event.error);
    fail(t('outbox.failed', { label: opLabel(snap.event.op), reason: d.text }));
  }
});

// offline -------------------------------------------------------------------------------------

function drawOffline() {
  renderOffline(el, { online: isOnline(), me, copy, snap: lastSnap });
}

onCopyChange((status) => {
  copy = status;
  drawOffline();
});

function connectivityChanged() {
  renderPending(el, lastSnap);
  drawOffline();
  // Back online: bring the copy up to date (the outbox sends on its own).
  if (isOnline() && me) refreshCopy().catch(() => {});
}

window.addEventListener('online', () => { probe().then(connectivityChanged); });
window.addEventListener('offline', connectivityChanged);
window.addEventListener('br:connectivity', connectivityChanged);
window.addEventListener('hashchange', onRoute);

// While the server cannot be reached, ask it now and then whether it is back (the outbox and
// the copy only ask when they have something to do).
setInterval(() => {
  if (me && !isOnline() && navigator.onLine !== false) probe().catch(() => {});
}, 10000);

// the installed app: service worker, new builds at a safe moment ----------------------------

let lastActivity = Date.now();
for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, () => { lastActivity = Date.now(); }, true);

const STEP_SCREEN = /^\/r\/[^/]+\/(sort|inspect|dispose)$|^\/restock$/;

/**
 * A moment when the page may reload onto a new build without getting in anyone's way: nothing
 * being sent, scanned or typed, no dialog or receive countdown open, nobody touching the screen
 * for a few seconds, and no step under way (a step screen with counts not yet submitted).
 */
function safeMoment() {
  if (lastSnap.sending || !el.scanBusy.hidden || el.scan.value) return false;
  if (document.querySelector('dialog[open], [data-testid=auto-receive], #camera-overlay')) return false;
  if (document.activeElement && document.activeElement !== el.scan && isTextEntry(document.activeElement)
      && document.activeElement.value) return false;
  if (document.visibilityState === 'hidden') return true;
  if (Date.now() - lastActivity < 5000) return false;
  const { path } = parseHash();
  return !(STEP_SCREEN.test(path) && listDrafts().length > 0);
}

let safeTimer = null;
function whenSafe(fn) {
  clearInterval(safeTimer);
  safeTimer = setInterval(() => {
    if (!safeMoment()) return;
    clearInterval(safeTimer);
    fn();
  }, 2000);
}

/** The build of the worker controlling this page (asked by message), or null. */
function controllerBuild() {
  const c = navigator.serviceWorker.controller;
  if (!c) return Promise.resolve(null);
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    const timer = setTimeout(() => resolve(null), 3000);
    ch.port1.onmessage = (e) => { clearTimeout(timer); resolve(e.data?.build || null); };
    c.postMessage({ type: 'build' }, [ch.port2]);
  });
}

async function startServiceWorker() {
  // Browsers run service workers only on https (and on localhost): on plain http the app works
  // online, keeps its outbox and its copy, but does not open without the network.
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  const pageBuild = document.querySelector('meta[name="ui-build"]')?.content || null;
  let reloading = false;
  const reloadOnto = () => {
    if (reloading) return;
    reloading = true;
    location.reload();
  };
  let wanted = false;
  navigator.serviceWorker.addEventListener('controllerchange', async () => {
    if (wanted) {
      reloadOnto();
      return;
    }
    // The first worker took over a page it did not serve: reload only if it is of another build.
    const build = await controllerBuild();
    if (build && pageBuild && build !== pageBuild) whenSafe(reloadOnto);
  });
  navigator.serviceWorker.addEventListener('message', (e) => {
    // A new build that could not be installed whole (a deployment met half way, the network
    // gone meanwhile): this one goes on, and the next check tries again.
    if (e.data?.type === 'install-failed') console.warn(`new build ${e.data.build} not installed: ${e.data.error}`);
  });
  let reg;
  try {
    reg = await navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' });
  } catch {
    return;
  }
  // A new build installed (all its files) while this page runs on the old one: take it at a
  // safe moment; the worker then removes the old files.
  const offer = () => {
    if (!reg.waiting || !navigator.serviceWorker.controller) return;
    const waiting = reg.waiting;
    whenSafe(() => {
      wanted = true;
      waiting.postMessage({ type: 'skip-waiting' });
    });
  };
  reg.addEventListener('updatefound', () => {
    const w = reg.installing;
    if (w) w.addEventListener('statechange', () => { if (w.state === 'installed') offer(); });
  });
  offer();
  const build = await controllerBuild();
  if (build && pageBuild && build !== pageBuild) whenSafe(reloadOnto);
  // A deployment is found at the next start, or while the app stays open all shift.
  setInterval(() => { if (isOnline()) reg.update().catch(() => {}); }, 10 * 60 * 1000);
}

/** Opened at the start page (the installed app's icon, a restarted browser): back to the screen
 *  the person was on, as after a reload. */
function resumeScreen() {
  if (!me || (location.hash && location.hash !== '#/' && location.hash !== '#')) return;
  const last = pref(`last_screen.${me.username}`);
  if (!last || !last.hash || last.hash === '#/' || Date.now() - last.at > 12 * 3600 * 1000) return;
  history.replaceState(null, '', last.hash);
}

(async function boot() {
  setLang(getLang());
  setMe(await loadMe());
  copy = await copyStatus().catch(() => null);
  resumeScreen();
  document.getElementById('app').removeAttribute('aria-busy');
  drawOffline();
  onRoute();
  startServiceWorker().catch(() => {});
}());
