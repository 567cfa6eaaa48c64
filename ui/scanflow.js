// "Scan anything": a code no screen claims goes to the scan resolver, and the worker is taken
// to what it is (a return, a bin) with its next actions. Without the server (Wi-Fi down, server
// away) the local copy of the warehouse's open work answers instead (localcopy.js).
import { request, seg, ApiError } from './api.js';
import { resolveLocally, unreachable } from './localcopy.js';
import { t, label } from './i18n/index.js';
import { ok, fail } from './feedback.js';
import { navigate } from './router.js';

/** How long a scan waits for the server when the device knows the answer itself. */
const SCAN_TIMEOUT_WITH_COPY_MS = 4000;

/**
 * GET /scan/{code}, within the open return when there is one (so product barcodes match its
 * lines). When the server cannot be reached, the local copy's answer (marked `offline`); a code
 * the copy does not know then throws ApiError `not_in_copy`.
 */
export async function resolveCode(code, returnId) {
  const local = await resolveLocally(code, returnId).catch(() => null);
  try {
    return await request('GET', `/scan/${seg(code)}`, {
      query: { return: returnId || undefined },
      timeout: local ? SCAN_TIMEOUT_WITH_COPY_MS : undefined,
    });
  } catch (err) {
    if (!unreachable(err)) throw err;
    if (local) return local;
    throw new ApiError(0, { code: 'not_in_copy' });
  }
}

/** Where the next-action buttons of a return lead. */
export function actionHref(action, returnId, bin) {
  switch (action) {
    case 'sort': return `#/r/${seg(returnId)}/sort`;
    case 'inspect': return `#/r/${seg(returnId)}/inspect`;
    case 'dispose': return `#/r/${seg(returnId)}/dispose`;
    case 'restock': return `#/restock?return=${seg(returnId)}${bin ? `&bin=${seg(bin)}` : ''}`;
    case 'print_label': return `#/r/${seg(returnId)}/label`;
    default: return `#/r/${seg(returnId)}`;
  }
}

/** The default handling of a scan: resolve it and go where it belongs. Throws ApiError. */
export async function defaultScan(code, openReturnId) {
  return routeResolved(await resolveCode(code, openReturnId));
}

/** Takes the worker to what a resolved code is, with success or error feedback. */
export function routeResolved(res) {
  const returnId = res.return?.id || (res.kind === 'return' ? res.id : null);
  if (res.kind === 'bin' && res.bin) {
    if (res.bin.area === 'restock') {
      ok(t('scan.bin_restock', { bin: res.bin.code }));
      navigate(`#/restock?bin=${seg(res.bin.code)}`);
    } else {
      // Nothing to do with that bin here: an error, said with what to scan instead.
      fail(t('scan.bin_other', { bin: res.bin.code, area: label('area', res.bin.area) }));
    }
    return res;
  }
  if (returnId) {
    ok(t('scan.found_return', { kind: label('kind', res.kind), id: returnId }));
    // A parcel's own label or waybill scanned: the return screen may receive it at once (a
    // dock's handheld, see return.js); opening it any other way never does.
    const parcel = res.kind === 'waybill' || res.kind === 'return';
    navigate(`#/r/${seg(returnId)}${parcel ? '?scanned=1' : ''}`);
    return res;
  }
  if (res.kind === 'product' && res.line) {
    fail(t('scan.product_without_return', { name: res.line.gname || res.line.gcode }));
    return res;
  }
  ok(t('scan.found', { kind: label('kind', res.kind), id: res.id }));
  return res;
}
