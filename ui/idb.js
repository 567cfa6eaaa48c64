// The outbox's storage: one IndexedDB object store keyed by an auto-incremented `seq`,
// which is also the order actions are sent in. Where IndexedDB cannot be opened
// (some private modes) the same interface is kept in localStorage.

const DB_NAME = 'bonded-returns';
const STORE = 'outbox';

let dbPromise = null;

function promisify(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (!('indexedDB' in window)) {
        reject(new Error('no indexedDB'));
        return;
      }
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore(STORE, { keyPath: 'seq', autoIncrement: true });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('indexedDB blocked'));
    }).catch(() => null);
  }
  return dbPromise;
}

async function tx(mode, fn) {
  const db = await openDb();
  if (!db) return fn(null);
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    let result;
    Promise.resolve(fn(t.objectStore(STORE))).then((r) => { result = r; }, reject);
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
}

// localStorage fallback ------------------------------------------------------------
const LS_KEY = 'br.outbox';

function lsRead() {
  try {
    return JSON.parse(localStorage.getItem(LS_KEY) || '[]');
  } catch {
    return [];
  }
}

function lsWrite(list) {
  localStorage.setItem(LS_KEY, JSON.stringify(list));
}

// public interface -----------------------------------------------------------------

/** Stores a new record; resolves with its seq once it is durably written. */
export function add(record) {
  return tx('readwrite', (store) => {
    if (!store) {
      const list = lsRead();
      const seq = list.reduce((m, r) => Math.max(m, r.seq), 0) + 1;
      list.push({ ...record, seq });
      lsWrite(list);
      return seq;
    }
    return promisify(store.add(record));
  });
}

export function put(record) {
  return tx('readwrite', (store) => {
    if (!store) {
      lsWrite(lsRead().map((r) => (r.seq === record.seq ? record : r)));
      return record.seq;
    }
    return promisify(store.put(record));
  });
}

export function remove(seq) {
  return tx('readwrite', (store) => {
    if (!store) {
      lsWrite(lsRead().filter((r) => r.seq !== seq));
      return undefined;
    }
    return promisify(store.delete(seq));
  });
}

export function getOne(seq) {
  return tx('readonly', (store) => {
    if (!store) return lsRead().find((r) => r.seq === seq) || undefined;
    return promisify(store.get(seq));
  });
}

/** All records in seq order. */
export function all() {
  return tx('readonly', (store) => {
    if (!store) return lsRead().sort((a, b) => a.seq - b.seq);
    return promisify(store.getAll());
  });
}
