// Work in progress kept on the device (localStorage), so that a reload, a crash or a flat
// battery does not lose counts being entered, the open return or the chosen bin.
// Keys are scoped by user so that two people sharing a handheld never see each other's drafts.

const PREFIX = 'br.';
let user = 'anonymous';

export function setStoreUser(username) {
  // Signed out (or session expired) keeps the last scope, so a draft saved by a screen that
  // was finishing its work lands with its owner, who finds it again after signing back in.
  if (username) user = username;
}

function read(key) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? null : JSON.parse(raw);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the page keeps working, only the reload safety is lost.
  }
}

function draftKey(kind, id) {
  return `draft.${user}.${kind}.${id || '-'}`;
}

/** The saved draft of one step (kind = sort|inspect|restock|dispose, id = return id). */
export function loadDraft(kind, id) {
  return read(draftKey(kind, id));
}

export function saveDraft(kind, id, value) {
  write(draftKey(kind, id), { ...value, saved_at: new Date().toISOString() });
}

export function clearDraft(kind, id) {
  write(draftKey(kind, id), null);
}

/** All drafts of the current user: [{kind, id, value}]. */
export function listDrafts() {
  const out = [];
  const start = `${PREFIX}draft.${user}.`;
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (!key || !key.startsWith(start)) continue;
      const [kind, id] = key.slice(start.length).split('.');
      const value = read(key.slice(PREFIX.length));
      if (value) out.push({ kind, id: id === '-' ? null : id, value });
    }
  } catch {
    return out;
  }
  return out.sort((a, b) => String(b.value.saved_at).localeCompare(String(a.value.saved_at)));
}

/** Device preferences (camera per warehouse, keyboard mode…), not scoped by user. */
export function pref(name, fallback = null) {
  const value = read(`pref.${name}`);
  return value === null ? fallback : value;
}

export function setPref(name, value) {
  write(`pref.${name}`, value);
}

/** The signed-in identity, cached so a handheld that starts offline still knows who it is. */
export function cachedMe() {
  return read('me');
}

export function cacheMe(me) {
  write('me', me);
}

/**
 * Labels to print: parcels received on this device while offline (or queued) without a label
 * printer, whose receive the outbox has sent since. Their label must go through the browser's
 * print dialog; the home screen reminds the worker until it is printed or dismissed. Kept per
 * user; a change is said as `br:labels-to-print`.
 */
function labelsKey(who) {
  return `labels_to_print.${who || user}`;
}

export function labelsToPrint() {
  const list = read(labelsKey());
  return Array.isArray(list) ? list : [];
}

export function addLabelToPrint(id, who = null) {
  if (!id) return;
  const list = read(labelsKey(who));
  const now = Array.isArray(list) ? list : [];
  if (now.some((e) => e.id === id)) return;
  write(labelsKey(who), [...now, { id, sent_at: new Date().toISOString() }]);
  window.dispatchEvent(new CustomEvent('br:labels-to-print'));
}

export function removeLabelToPrint(id) {
  const same = (e) => String(e.id).toUpperCase() === String(id || '').toUpperCase();
  const list = labelsToPrint();
  if (!list.some(same)) return;
  write(labelsKey(), list.filter((e) => !same(e)));
  window.dispatchEvent(new CustomEvent('br:labels-to-print'));
}
