// Printing labels: the label SVG is placed alone on a page of the label's size inside a
// hidden iframe, and that frame is printed, so the browser's print dialog shows only the label.
import { apiUrl, seg } from './api.js';

const SIZES = {
  '100x150': { page: '100mm 150mm', width: '100mm', height: '150mm' },
  '60x40': { page: '60mm 40mm', width: '60mm', height: '40mm' },
  a4: { page: 'A4', width: '210mm', height: 'auto' },
};

export function returnLabelUrl(id, size = '100x150') {
  return apiUrl(`/labels/returns/${seg(id)}.svg`, { size });
}

export function binSheetUrl(warehouse, area) {
  return apiUrl(`/labels/bins/${seg(warehouse)}.svg`, { area });
}

export function binLabelUrl(warehouse, bin) {
  return apiUrl(`/labels/bins/${seg(warehouse)}/${seg(bin)}.svg`);
}

/** Prints one image URL on a page of the given size. Resolves true once the print dialog was
 *  opened, false when the label could not be loaded. */
export function printImage(url, size = '100x150') {
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
        img { display: block; width: ${dims.width}; height: ${dims.height} }`;
      doc.head.append(style);
      const img = doc.createElement('img');
      img.alt = '';
      img.onload = () => {
        try {
          frame.contentWindow.focus();
          frame.contentWindow.print();
          resolve(true);
        } catch {
          resolve(false);
        }
        window.dispatchEvent(new CustomEvent('br:refocus'));
      };
      img.onerror = () => resolve(false);
      img.src = url;
      doc.body.append(img);
    };
    frame.srcdoc = '<!doctype html><html><head><meta charset="utf-8"><title>label</title></head><body></body></html>';
    document.body.append(frame);
  });
}
