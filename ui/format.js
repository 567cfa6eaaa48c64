// Shared formatting: times, deadlines, and the state badges whose colours mean the same
// thing on every screen.
import { h } from './dom.js';
import { t, label } from './i18n/index.js';

function pad(n) {
  return String(n).padStart(2, '0');
}

/** RFC 3339 → "2026-05-01 14:03" in the device's time zone. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** RFC 3339 → "2026-05-01 14:03:09 +08:00": to the second, in China time (the zone every
 *  warehouse keeps its records in), with the offset shown — as the audit log is read. */
export function fmtSecond(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const c = new Date(d.getTime() + 8 * 3600 * 1000);
  return `${c.getUTCFullYear()}-${pad(c.getUTCMonth() + 1)}-${pad(c.getUTCDate())} ${pad(c.getUTCHours())}:${pad(c.getUTCMinutes())}:${pad(c.getUTCSeconds())} +08:00`;
}

/** The clock time of an RFC 3339 time in China time, to the second ("14:03:09"). */
export function fmtClock(iso) {
  return fmtSecond(iso).slice(11, 19);
}

export function fmtDate(iso) {
  if (!iso) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  return fmtTime(iso).slice(0, 10);
}

/** "剩 5 天" / "今天到期" / "逾期 3 天". */
export function daysLeftText(days) {
  if (days === null || days === undefined) return '—';
  if (days < 0) return t(days === -1 ? 'fmt.day_overdue' : 'fmt.overdue', { n: -days });
  if (days === 0) return t('fmt.due_today');
  return t(days === 1 ? 'fmt.day_left' : 'fmt.days_left', { n: days });
}

/** urgent when within 5 days of a limit, as the dashboard counts it. */
export function urgency(days) {
  if (days === null || days === undefined) return '';
  if (days < 0) return 'overdue';
  if (days <= 5) return 'urgent';
  return '';
}

/** A datetime-local value (no zone) → RFC 3339 with the device's offset. */
export function localToRfc3339(value) {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** RFC 3339 → a datetime-local value, for filling a form back in. */
export function rfc3339ToLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function stateBadge(state) {
  return h('span', { class: `badge st-${state}`, 'data-state': state }, label('state', state));
}

/** The state badge plus the late / held / discrepancy flags of a return or summary. */
export function returnBadges(r) {
  return h('span', { class: 'badges' },
    stateBadge(r.state),
    r.held && r.state !== 'held' ? h('span', { class: 'badge st-held' }, label('state', 'held')) : null,
    r.late ? h('span', { class: 'badge st-late' }, t('flag.late')) : null,
    r.discrepancy ? h('span', { class: 'badge flag-discrepancy' }, t('flag.discrepancy')) : null);
}

/** Any JSON value as short readable text (audit before/after values). */
export function plain(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The words for an outbox action: its label {k, v} translated now, in the current language. */
export function opLabel(op) {
  if (!op || !op.label) return op ? `${op.method} ${op.path}` : '';
  return t(op.label.k, op.label.v);
}
