// What the device keeps in IndexedDB:
// - `outbox`: the actions made on this device, keyed by an auto-incremented `seq`, which is
//   also the order they are sent in (outbox.js);
// - `returns`: the local copy of the warehouse's open returns, keyed by id, with an index on
//   the waybill (localcopy.js); never anything about the buyer;
// - `meta`: small values by name (the last person signed in, the local copy's cursor).
// Where IndexedDB cannot be opened (some private modes) the outbox is kept in localStorage and
// the other stores in memory (the page then works online only).

const DB_NAME = 'bonded-returns';
const VERSION = 2;
const OUTBOX = 'outbox';

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
      const req = indexedDB.open(DB_NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        const names = db.objectStoreNames;
        if (!names.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: 'seq', autoIncrement: true });
        if (!names.contains('returns')) {
          const returns = db.createObjectStore('returns', { keyPath: 'id' });
          returns.createIndex('waybill', 'logistics_no', { unique: false });
        }
        if (!names.contains('meta')) db.createObjectStore('meta');
      };
      req.onsuccess = () => {
        const db = req.result;
        // A newer page (a new deployment in another tab) must not wait for this one.
        db.onversionchange = () => db.close();
        resolve(db);
      };
      req.onerror = () => reject(req.error);
      // Blocked by an older page still open: wait for it to close (it is told to), rather
      // than keep the outbox elsewhere meanwhile.
    }).catch(() => null);
  }
  return dbPromise;
}

/** Runs fn(store) in a transaction on `name`; fn(null) where IndexedDB is unavailable. */
async function txOn(name, mode, fn) {
  const db = await openDb();
  if (!db) return fn(null);
  return new Promise((resolve, reject) => {
    const t = db.transaction(name, mode);
    let result;
    Promise.resolve(fn(t.objectStore(name))).then((r) => { result = r; }, reject);
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
}

/** IndexedDB can be used here (else the local copy is not kept). */
export async function available() {
  return Boolean(await openDb());
}

// localStorage fallback of the outbox ---------------------------------------------------
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

// the outbox -------------------------------------------------------------------------------

/** Stores a new record; resolves with its seq once it is durably written. */
export function add(record) {
  return txOn(OUTBOX, 'readwrite', (store) => {
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
  return txOn(OUTBOX, 'readwrite', (store) => {
    if (!store) {
      lsWrite(lsRead().map((r) => (r.seq === record.seq ? record : r)));
      return record.seq;
    }
    return promisify(store.put(record));
  });
}

export function remove(seq) {
  return txOn(OUTBOX, 'readwrite', (store) => {
    if (!store) {
      lsWrite(lsRead().filter((r) => r.seq !== seq));
      return undefined;
    }
    return promisify(store.delete(seq));
  });
}

export function getOne(seq) {
  return txOn(OUTBOX, 'readonly', (store) => {
    if (!store) return lsRead().find((r) => r.seq === seq) || undefined;
    return promisify(store.get(seq));
  });
}

/** All records in seq order. */
export function all() {
  return txOn(OUTBOX, 'readonly', (store) => {
    if (!store) return lsRead().sort((a, b) => a.seq - b.seq);
    return promisify(store.getAll());
  });
}

// meta: small values by name -----------------------------------------------------------------
const memoryMeta = new Map();

export function getMeta(key) {
  return txOn('meta', 'readonly', (store) => (store ? promisify(store.get(key)) : memoryMeta.get(key)));
}

export function setMeta(key, value) {
  return txOn('meta', 'readwrite', (store) => {
    if (!store) {
      if (value === undefined || value === null) memoryMeta.delete(key);
      else memoryMeta.set(key, value);
      return undefined;
    }
    return promisify(value === undefined || value === null ? store.delete(key) : store.put(value, key));
  });
}

// the local copy of returns -------------------------------------------------------------------
const memoryReturns = new Map();

export function getReturn(id) {
  return txOn('returns', 'readonly', (store) => (store ? promisify(store.get(id)) : memoryReturns.get(id)));
}

export function returnsByWaybill(waybill) {
  return txOn('returns', 'readonly', (store) => {
    if (!store) return [...memoryReturns.values()].filter((r) => r.logistics_no === waybill);
    return promisify(store.index('waybill').getAll(waybill));
  });
}

export function allReturns() {
  return txOn('returns', 'readonly', (store) => (store ? promisify(store.getAll()) : [...memoryReturns.values()]));
}

/**
 * Changes the local copy in one transaction: `clear` first (a whole new copy), then `put`
 * (records) and `remove` (ids).
 */
export function changeReturns({ clear = false, put: records = [], remove: ids = [] }) {
  return txOn('returns', 'readwrite', (store) => {
    if (!store) {
      if (clear) memoryReturns.clear();
      for (const r of records) memoryReturns.set(r.id, r);
      for (const id of ids) memoryReturns.delete(id);
      return undefined;
    }
    if (clear) store.clear();
    for (const r of records) store.put(r);
    for (const id of ids) store.delete(id);
    return undefined;
  });
}
