// Read-only parts of a return shown on its screen: lines with their progress, discrepancies,
// disposals, customs status, buyer (masked for floor staff) and history.
import { h } from './dom.js';
import { excludedDetail } from './errors.js';
import { t, label } from './i18n/index.js';
import { fmtTime, fmtSecond, fmtClock, plain } from './format.js';
import { lineTitle, sectionTitle, fact } from './components.js';

const GRADES = ['intact', 'damaged_packaging', 'used', 'defective', 'not_original'];

export function gradeText(grades) {
  if (!grades) return null;
  const parts = GRADES.filter((g) => grades[g]).map((g) => `${label('grade', g)} ${grades[g]}`);
  return parts.length ? parts.join(' · ') : null;
}

export function linesPart(r) {
  return h('section', { class: 'card' },
    sectionTitle(t('return.lines')),
    h('ul', { class: 'lines' }, (r.lines || []).map((l) => {
      const disposed = l.disposed ? Object.values(l.disposed).reduce((a, b) => a + (b || 0), 0) : 0;
      return h('li', { class: 'line', 'data-gnum': l.gnum },
        lineTitle(l),
        h('dl', { class: 'facts compact' },
          fact(t('line.qty'), `${l.qty} ${l.unit ? label('unit', l.unit) : ''}`.trim()),
          l.sorted !== null && l.sorted !== undefined ? fact(t('line.sorted'), l.sorted) : null,
          gradeText(l.grades) ? fact(t('line.grades'), gradeText(l.grades)) : null,
          l.restocked ? fact(t('line.restocked'), l.restocked) : null,
          disposed ? fact(t('line.disposed'), disposed) : null,
          l.pending_disposal ? fact(t('line.pending_disposal'), l.pending_disposal) : null,
          l.in_warehouse !== undefined && l.in_warehouse !== null ? fact(t('line.in_warehouse'), l.in_warehouse) : null));
    })));
}

export function discrepanciesPart(r) {
  if (!r.discrepancies || !r.discrepancies.length) return null;
  return h('section', { class: 'card warn-card', 'data-testid': 'discrepancies' },
    sectionTitle(t('return.discrepancies')),
    h('ul', { class: 'plain-list' }, r.discrepancies.map((d) =>
      h('li', {}, h('span', { class: 'code' }, d.code), ` × ${d.qty}`))));
}

export function disposalsPart(r) {
  if (!r.disposals || !r.disposals.length) return null;
  return h('section', { class: 'card' },
    sectionTitle(t('return.disposals')),
    h('ul', { class: 'plain-list' }, r.disposals.map((d) =>
      h('li', { class: `disposal status-${d.status}`, 'data-testid': `disposal-${d.id}` },
        h('strong', {}, label('route', d.route)), ' ',
        t('line.gnum', { n: d.gnum }), ` × ${d.qty} · `,
        h('span', { class: 'code' }, d.reference || ''), ' · ',
        h('span', { class: `badge disp-${d.status}` }, label('disposal_status', d.status)),
        d.requested_by ? h('small', { class: 'muted' }, ` · ${t('return.requested_by', { who: d.requested_by })}`) : null,
        d.approved_by ? h('small', { class: 'muted' }, ` · ${t('return.approved_by', { who: d.approved_by })}`) : null))));
}

export function detailsPart(r) {
  return h('section', { class: 'card' },
    sectionTitle(t('return.details')),
    h('dl', { class: 'facts' },
      fact(t('return.order_no'), r.order_no, 'code'),
      fact(t('return.reason'), r.reason),
      fact(t('return.warehouse'), r.warehouse),
      r.camera ? fact(t('return.camera'), r.camera) : null,
      fact(t('return.applied_at'), fmtTime(r.applied_at)),
      fact(t('return.released_at'), fmtTime(r.released_at)),
      fact(t('return.received_at'), fmtTime(r.received_at)),
      fact(t('return.arrival_deadline_label'), fmtTime(r.arrival_deadline)),
      fact(t('return.apply_deadline_label'), fmtTime(r.apply_deadline)),
      r.ebp ? fact(t('return.ebp'), `${r.ebp.name || ''} ${r.ebp.code || ''}`.trim()) : null,
      r.agent ? fact(t('return.agent'), `${r.agent.name || ''} ${r.agent.code || ''}`.trim()) : null,
      r.logistics ? fact(t('return.logistics'), `${r.logistics.name || ''} ${r.logistics.code || ''}`.trim()) : null,
      r.buyer ? fact(t('return.buyer'), [r.buyer.name, r.buyer.id_number, r.buyer.telephone].filter(Boolean).join(' · ')) : null,
      r.customs_status ? fact(t('return.customs_status'),
        `${r.customs_status.status}${r.customs_status.info ? ` ${r.customs_status.info}` : ''} · ${fmtTime(r.customs_status.at)}`) : null));
}

/** A step's changes without what is shown as fields of their own (camera, area, quantity, and
 *  a bin that was only put there), so that nothing is said twice. */
export function stepChanges(changes) {
  const out = { ...(changes || {}) };
  for (const k of ['camera', 'area', 'quantity']) delete out[k];
  if (out.bin && (out.bin.before === null || out.bin.before === undefined)) delete out.bin;
  return out;
}

/** The camera of a step and a link to its footage (30 s before to 90 s after) on the NVR;
 *  without a playback link set for the camera, the window to ask the NVR for. */
export function footageLink(f) {
  const window = `${fmtClock(f.from)}–${fmtClock(f.to)}`;
  return h('p', { class: 'footage', 'data-camera': f.camera },
    h('span', {}, `${t('audit.camera')} `, h('span', { class: 'code' }, f.camera)), ' ',
    f.url
      ? h('a', { href: f.url, target: '_blank', rel: 'noopener noreferrer', class: 'footage-link', 'data-action': 'footage' },
        `${t('audit.footage')} ${window}`)
      : h('span', { class: 'muted' }, t('audit.footage_no_link', { window })));
}

export function historyPart(r) {
  if (!r.history || !r.history.length) return null;
  return h('section', { class: 'card' },
    sectionTitle(t('return.history')),
    h('ol', { class: 'history' }, r.history.map((e) => h('li', {},
      h('div', { class: 'history-head' },
        h('span', { class: 'muted' }, `#${e.seq}`), ' ',
        h('time', { datetime: e.at }, fmtSecond(e.at)), ' · ',
        h('strong', {}, label('audit_action', e.action)), ' · ', e.actor),
      e.footage ? footageLink(e.footage) : null,
      changesList(e.footage ? stepChanges(e.changes) : e.changes),
      e.reason ? h('p', { class: 'audit-reason' }, `${t('common.reason')}: ${reasonText(e.reason)}`) : null))));
}

const VALUE_GROUPS = { state: 'state', held_from: 'state', route: 'route', area: 'area', rating: 'rating', role: 'role', status: 'disposal_status', kind: 'kind', password: 'password_change' };

// Times in the audit record may come without an offset; they are UTC.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function timeText(value) {
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value);
  return fmtTime(hasZone ? value : `${value.replace(/(\.\d{3})\d+$/, '$1')}Z`);
}

/** One object of a list (a graded line, a disposal): its item number first, then the other
 *  non-empty fields by name. */
function objectText(value) {
  const parts = [];
  if ('gnum' in value) parts.push(t('line.gnum', { n: value.gnum }));
  for (const [k, v] of Object.entries(value)) {
    if (k === 'gnum' || v === 0 || v === null || v === '') continue;
    const name = GRADES.includes(k) ? label('grade', k) : label('field', k);
    parts.push(`${name} ${VALUE_GROUPS[k] && typeof v === 'string' ? label(VALUE_GROUPS[k], v) : plain(v)}`);
  }
  return parts.join(' ');
}

/** A before/after value in words: enumerations by their names, booleans as yes/no, times in
 *  local time, lists item by item, grades by name. */
function valueText(field, value) {
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  if (typeof value === 'string' && VALUE_GROUPS[field]) return label(VALUE_GROUPS[field], value);
  if (typeof value === 'string' && ISO_TIME.test(value)) return timeText(value);
  if (Array.isArray(value)) {
    if (!value.length) return t('common.none');
    return value.map((v) => (v && typeof v === 'object' ? objectText(v) : plain(v))).join(t('common.sep'));
  }
  if (value && typeof value === 'object') return objectText(value);
  return plain(value);
}

/** A changed field's name. Some name one thing among several: "line 3 restocked",
 *  "stock EBC/HS code/bin", "disposal 7". */
function fieldText(field) {
  let m = /^line (\d+) (\w+)$/.exec(field);
  if (m) return t('field.line_of', { n: m[1], what: label('field', m[2]) });
  m = /^stock (.+)$/.exec(field);
  if (m) return t('field.stock_of', { place: m[1] });
  m = /^disposal (\d+)$/.exec(field);
  if (m) return t('field.disposal_of', { id: m[1] });
  return label('field', field);
}

/** Reasons the system itself writes (src: settle.rs, parties.rs, error.rs `Exclusion`), said
 *  in the reader's language; people's own reasons are shown as written. */
const SYSTEM_REASONS = { 'every unit settled: return closed': 'audit.reason.closed' };
const RATED = /^party (\S+) rated (\w+) \([^)]*\) under (.+)$/;
const EXCLUDED = /^the (e-commerce enterprise|declaring agent|warehouse operator) (.+) \((\S+)\) is rated (\w+) \([^)]*\) since (\S+) \(reference (.+)\): excluded from the return flow$/;
const PARTY = { 'e-commerce enterprise': 'ecommerce', 'declaring agent': 'agent', 'warehouse operator': 'operator' };

export function reasonText(reason) {
  if (SYSTEM_REASONS[reason]) return t(SYSTEM_REASONS[reason]);
  let m = RATED.exec(reason);
  if (m) return t('audit.reason.rated', { code: m[1], rating: label('rating', m[2]), reference: m[3] });
  m = EXCLUDED.exec(reason);
  if (m) {
    return excludedDetail({ party: PARTY[m[1]], name: m[2], code: m[3], rating: m[4], since: m[5], reference: m[6] });
  }
  return reason;
}

/** "field: before → after" for every changed field. */
export function changesList(changes) {
  const entries = Object.entries(changes || {});
  if (!entries.length) return null;
  return h('ul', { class: 'changes' }, entries.map(([field, c]) => {
    const isPair = c && typeof c === 'object' && ('before' in c || 'after' in c);
    return h('li', {},
      h('span', { class: 'field-name' }, fieldText(field)), ': ',
      isPair ? h('span', { class: 'before' }, valueText(field, c.before)) : null,
      isPair ? ' → ' : null,
      h('span', { class: 'after' }, valueText(field, isPair ? c.after : c)));
  }));
}
