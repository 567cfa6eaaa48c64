// The scan field. A keyboard-wedge scanner "types" a whole code in a burst (characters a few
// milliseconds apart) and ends with Enter; a person types slowly and mistypes waybills. So a
// burst is a scan and is acted on at once, while slow typing is manual entry and is acted on
// only after a confirming tap (or after the same code is entered or scanned a second time).
// Camera scanning (BarcodeDetector) is offered where the browser has it.
import { h } from './dom.js';
import { t } from './i18n/index.js';

/** Gaps between characters of a scan are well under this (ms); people type 100–300 ms apart. */
export const BURST_GAP_MS = 50;
const MAX_SINGLE_GAP_MS = 300;
const MIN_SCAN_LENGTH = 4;

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * Decides whether what was entered came from a scanner.
 * stamps: times (ms) at which characters arrived; a paste or a programmatic fill arrives as a
 * single insertion and counts as a scan, since it cannot contain a typing slip.
 */
export function isBurst(stamps, length, edited) {
  if (edited || length < MIN_SCAN_LENGTH || stamps.length === 0) return false;
  if (stamps.length === 1) return true;
  const gaps = [];
  for (let i = 1; i < stamps.length; i += 1) gaps.push(stamps[i] - stamps[i - 1]);
  return median(gaps) < BURST_GAP_MS && Math.max(...gaps) < MAX_SINGLE_GAP_MS;
}

/**
 * Wires the scan input. onScan(code, {source: 'scanner'|'manual'|'camera'}) is called once per
 * accepted code. ui = {input, box, code, confirm, cancel} (the manual-entry confirmation strip).
 */
export function attachScanner(ui, onScan) {
  const { input } = ui;
  let stamps = [];
  let lastLength = 0;
  let edited = false;
  let pendingManual = null;

  function reset() {
    stamps = [];
    lastLength = 0;
    edited = false;
    input.value = '';
  }

  function hideConfirm() {
    pendingManual = null;
    ui.box.hidden = true;
  }

  function askConfirm(code) {
    pendingManual = code;
    ui.code.textContent = code;
    ui.box.hidden = false;
  }

  input.addEventListener('input', (e) => {
    const len = input.value.length;
    if (len === 0) {
      stamps = [];
      edited = false;
    } else if (len > lastLength) {
      stamps.push(e.timeStamp || performance.now());
    } else {
      edited = true; // something was deleted: a person is correcting
    }
    lastLength = len;
  });

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      reset();
      hideConfirm();
      return;
    }
    const isEnd = e.key === 'Enter' || (e.key === 'Tab' && input.value && isBurst(stamps, input.value.length, edited));
    if (!isEnd || e.isComposing) return;
    e.preventDefault();
    const code = input.value.trim();
    const burst = isBurst(stamps, code.length, edited);
    reset();
    if (!code) return;
    if (burst) {
      hideConfirm();
      onScan(code, { source: 'scanner' });
    } else if (pendingManual !== null && pendingManual === code) {
      hideConfirm();
      onScan(code, { source: 'manual' });
    } else {
      askConfirm(code);
    }
  });

  ui.confirm.addEventListener('click', () => {
    const code = pendingManual;
    hideConfirm();
    input.focus();
    if (code) onScan(code, { source: 'manual' });
  });
  ui.cancel.addEventListener('click', () => {
    hideConfirm();
    input.focus();
  });

  return { reset, hideConfirm };
}

// camera --------------------------------------------------------------------------

export function cameraSupported() {
  return 'BarcodeDetector' in window && Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

const WANTED_FORMATS = ['code_128', 'code_39', 'ean_13', 'ean_8', 'upc_a', 'upc_e', 'itf', 'qr_code', 'data_matrix'];

/**
 * Opens a full-screen camera view and resolves with the first code seen, or null when the
 * worker closes it. Rejects when the camera cannot be opened.
 */
export async function scanWithCamera() {
  const supported = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
  const formats = WANTED_FORMATS.filter((f) => supported.includes(f));
  const detector = new window.BarcodeDetector(formats.length ? { formats } : undefined);
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });

  return new Promise((resolve) => {
    let done = false;
    const video = h('video', { playsinline: true, muted: true, autoplay: true, 'aria-label': t('scan.camera_view') });
    video.muted = true;
    video.srcObject = stream;
    const close = (value) => {
      if (done) return;
      done = true;
      for (const track of stream.getTracks()) track.stop();
      overlay.remove();
      resolve(value);
    };
    const overlay = h('div', { class: 'camera-overlay', id: 'camera-overlay', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('scan.camera') },
      video,
      h('div', { class: 'camera-aim', 'aria-hidden': 'true' }),
      h('p', { class: 'camera-hint' }, t('scan.camera_hint')),
      h('button', { type: 'button', class: 'btn big', id: 'camera-close', 'data-action': 'camera-close', onclick: () => close(null) }, t('common.close')));
    document.body.append(overlay);

    const tick = async () => {
      if (done) return;
      try {
        if (video.readyState >= 2) {
          const codes = await detector.detect(video);
          const found = codes.find((c) => c.rawValue);
          if (found) {
            close(found.rawValue.trim());
            return;
          }
        }
      } catch {
        // A frame that cannot be read; try the next one.
      }
      setTimeout(tick, 150);
    };
    video.addEventListener('loadeddata', tick, { once: true });
  });
}
