// Printing labels: the label SVG (or every page of an A4 sheet) is placed alone on pages of the
// label's size inside a hidden iframe, and that frame is printed, so the browser's print dialog
// shows only the labels. A label the server refuses is explained in words, not as "failed".
import { apiUrl, seg, ApiError, download } from './api.js';
import { showError } from './errors.js';

const SIZES = {
  '100x150': { page: '100mm 150mm', width: '100mm', height: '150mm' },
  '60x40': { page: '60mm 40mm', width: '60mm', height: '40mm' },
  a4: { page: 'A4', width: '210mm', height: 'auto' },
};

/** Zebra printers' resolution, remembered per device (203 or 300 dpi). */
const ZPL_DPI_KEY = 'br.zpl.dpi';

export function returnLabelUrl(id, size = '100x150') {
  return apiUrl(`/labels/returns/${seg(id)}.svg`, { size });
}

export function binSheetUrl(warehouse, area, page = 1) {
  return apiUrl(`/labels/bins/${seg(warehouse)}.svg`, { area, page });
}

export function binLabelUrl(warehouse, bin, size = '60x40') {
  return apiUrl(`/labels/bins/${seg(warehouse)}/${seg(bin)}.svg`, { size });
}

export function itemLabelUrl(id, gnum, size = '100x150') {
  return apiUrl(`/labels/items/${seg(id)}/${seg(gnum)}.svg`, { size });
}

/** Fetches a label once: null when it can be had, else the server's refusal (or 'network'). */
async function problemOf(url) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    return { error: new ApiError(0, { code: 'network' }), res: null };
  }
  if (res.ok) return { error: null, res };
  let body = null;
  try { body = await res.json(); } catch { /* not problem+json */ }
  return { error: new ApiError(res.status, body), res };
}

/** Prints image URLs, one per page of the given size. Resolves true once the print dialog was
 *  opened, false when an image could not be loaded. */
export function printImage(urls, size = '100x150') {
  const list = Array.isArray(urls) ? urls : [urls];
  const dims = SIZES[size] || SIZES['100x150'];
  document.getElementById('print-frame')?.remove();
  const frame = document.createElement('iframe');
  frame.id = 'print-frame';
  frame.title = 'print';
  frame.setAttribute('aria-hidden', 'true');
  frame.tabIndex = -1;
  frame.className = 'print-frame';
  return new Promise((resolve) => {
    frame.onload = () => {
      const doc = frame.contentDocument;
      const style = doc.createElement('style');
      style.textContent = `@page { size: ${dims.page}; margin: 0 }
        html, body { margin: 0; padding: 0 }
        img { display: block; width: ${dims.width}; height: ${dims.height}; break-after: page }
        img:last-child { break-after: auto }`;
      doc.head.append(style);
      let left = list.length;
      let failed = false;
      for (const url of list) {
        const img = doc.createElement('img');
        img.alt = '';
        img.onload = () => {
          left -= 1;
          if (left > 0 || failed) return;
          try {
            frame.contentWindow.focus();
            // Said aloud for the browser test, which counts print dialogs as the worker's actions.
            window.dispatchEvent(new CustomEvent('br:print-dialog'));
            frame.contentWindow.print();
            resolve(true);
          } catch {
            resolve(false);
          }
          window.dispatchEvent(new CustomEvent('br:refocus'));
        };
        img.onerror = () => {
          failed = true;
          resolve(false);
        };
        img.src = url;
        doc.body.append(img);
      }
    };
    frame.srcdoc = '<!doctype html><html><head><meta charset="utf-8"><title>label</title></head><body></body></html>';
    document.body.append(frame);
  });
}

/** Prints a label; when it cannot be printed, says why (the server's reason, in words). */
export async function printLabel(url, size = '100x150') {
  if (await printImage(url, size)) return true;
  const { error } = await problemOf(url);
  showError(error || new ApiError(0, { code: 'network' }), 'label');
  return false;
}

/** Prints a bin label on 60×40; a bin code too long for that label goes on 100×150. */
export async function printBinLabel(warehouse, bin) {
  const small = binLabelUrl(warehouse, bin, '60x40');
  const { error } = await problemOf(small);
  if (!error) return printLabel(small, '60x40');
  if (error.code === 'validation') {
    return printLabel(binLabelUrl(warehouse, bin, '100x150'), '100x150');
  }
  showError(error, 'label');
  return false;
}

/** Prints every A4 page of an area's bin labels (the server says how many in X-Pages). */
export async function printBinSheet(warehouse, area) {
  const first = binSheetUrl(warehouse, area, 1);
  const { error, res } = await problemOf(first);
  if (error) {
    showError(error, 'label');
    return false;
  }
  const pages = Math.max(1, Number(res.headers.get('X-Pages')) || 1);
  const urls = Array.from({ length: pages }, (_, i) => binSheetUrl(warehouse, area, i + 1));
  return printLabel(urls, 'a4');
}

export function zplDpi() {
  return localStorage.getItem(ZPL_DPI_KEY) === '300' ? 300 : 203;
}

export function setZplDpi(dpi) {
  localStorage.setItem(ZPL_DPI_KEY, String(dpi === 300 ? 300 : 203));
}

/** Downloads a label as ZPL II for a Zebra printer (`path` without the extension). */
export async function downloadZpl(path, query, name) {
  try {
    await download(`${path}.zpl`, { ...query, dpi: zplDpi() }, `${name}.zpl`);
    return true;
  } catch (err) {
    showError(err, 'label');
    return false;
  }
}
