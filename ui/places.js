// Warehouses, bins, cameras and printers change rarely: they are fetched once per page and kept on the
// device too, so a handheld that loses the network can still offer its bins, cameras and printers.
import { getAll, seg } from './api.js';
import { pref, setPref } from './store.js';

const memo = new Map();

async function cached(key, load) {
  if (memo.has(key)) return memo.get(key);
  try {
    const items = await load();
    memo.set(key, items);
    setPref(`cache.${key}`, items);
    return items;
  } catch (err) {
    const kept = pref(`cache.${key}`);
    if (kept && err.code === 'network') return kept;
    throw err;
  }
}

export function warehouses() {
  return cached('warehouses', () => getAll('/warehouses'));
}

export function bins(warehouse) {
  return cached(`bins.${warehouse}`, () => getAll(`/warehouses/${seg(warehouse)}/bins`));
}

export function cameras(warehouse) {
  return cached(`cameras.${warehouse}`, () => getAll(`/warehouses/${seg(warehouse)}/cameras`));
}

export function printers(warehouse) {
  return cached(`printers.${warehouse}`, () => getAll(`/warehouses/${seg(warehouse)}/printers`));
}

/** Forget what was fetched (after an admin creates a bin, camera or printer). */
export function forget(prefix) {
  for (const key of [...memo.keys()]) if (key.startsWith(prefix)) memo.delete(key);
}
