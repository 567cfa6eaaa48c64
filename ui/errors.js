// Every problem `code` the server can send becomes a sentence that says what happened and
// what to do next. The server's own detail is kept as a smaller second line for the supervisor.
import { t, has, label } from './i18n/index.js';
import { ApiError } from './api.js';
import { fail } from './feedback.js';

/**
 * Describes an error for people. `context` picks a more specific sentence when one exists,
 * e.g. context 'scan' + code 'not_found' → key 'err.scan.not_found'.
 */
/** The enumerations whose values a `one_of` rule lists, by field. */
const ALLOWED_GROUPS = { area: 'area', kinds: 'kind_enterprise', role: 'role', rating: 'rating' };

/** A field's name in the reader's language ("lines[0].qty" → its last part). */
function fieldName(field) {
  const name = String(field || '').split('.').pop().replace(/\[\d+\]$/, '');
  return has(`field.${name}`) ? t(`field.${name}`) : name;
}

/** What is wrong with a field, in the reader's language: from the rule the server names; the
 *  server's English sentence only where no rule is given and the reader reads English. */
export function fieldText(f) {
  const name = String(f.field || '').split('.').pop();
  if (f.rule && has(`err.rule.${f.rule}`)) {
    const group = ALLOWED_GROUPS[name];
    const allowed = (f.allowed || []).map((a) => (group ? label(group, a) : a)).join('、');
    return t(`err.rule.${f.rule}`, { max: f.max, allowed });
  }
  return t('err.rule.other', { message: f.message });
}

export function describe(err, context, vars) {
  const e = err instanceof ApiError ? err : new ApiError(0, { code: 'network' });
  const code = e.code;
  const specific = context ? `err.${context}.${code}` : null;
  let key;
  if (specific && has(specific)) key = specific;
  else if (has(`err.${code}`)) key = `err.${code}`;
  else if (e.status >= 500) key = 'err.server';
  else key = 'err.unknown';
  const detail = excludedDetail(e.problem.excluded) || e.problem.detail || e.problem.title || null;
  // An id in use: say what exists, in words, instead of "changed by someone else".
  if (e.problem.exists) {
    const x = e.problem.exists;
    return { code, text: t('err.exists', { kind: label('exists', x.kind), id: x.id }), detail: null, fields: [] };
  }
  // A validation problem: each field in the reader's language, not the server's English.
  if (code === 'validation' && e.fields.length) {
    return {
      code,
      text: t(key, { ...vars, detail: '' }),
      detail: null,
      fields: e.fields.map((f) => ({ field: fieldName(f.field), message: fieldText(f) })),
    };
  }
  return {
    code,
    text: t(key, { ...vars, detail: detail || '', area: e.problem.area ? label('area', e.problem.area) : undefined }),
    detail: key === 'err.unknown' || key === 'err.server' || code === 'validation' || code === 'invalid_state'
      || code === 'quantity_exceeds' || code === 'conflict' || code === 'enterprise_excluded' ? detail : null,
    fields: e.fields,
  };
}

/**
 * The party and rating of an `enterprise_excluded` refusal, in the reader's language (the
 * server's `detail` is English).
 */
export function excludedDetail(x) {
  if (!x || !x.code) return null;
  const vars = {
    party: t(`excluded.party.${x.party}`),
    name: x.name || x.code,
    code: x.code,
    rating: t(`rating.${x.rating}`),
    since: x.since,
    reference: x.reference,
    warehouse: x.warehouse,
  };
  const said = t(x.warehouse ? 'excluded.warehouse_rated' : 'excluded.party_rated', vars);
  return x.held ? `${said} ${t('excluded.held')}` : said;
}

/** Error tone + vibration + flash, and the sentence in #message. */
export function showError(err, context, vars) {
  if (!(err instanceof ApiError)) {
    // A bug in the page itself: say so plainly rather than failing silently.
    fail(t('err.client'), { detail: err && err.message ? err.message : String(err) });
    return;
  }
  const d = describe(err, context, vars);
  fail(d.text, { detail: d.detail, fields: d.fields });
}

/** Marks form controls named after validation fields, with the message under each. */
export function markFields(form, err) {
  if (!form) return;
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  if (!(err instanceof ApiError)) return;
  for (const f of err.fields) {
    const control = form.querySelector(`[name="${CSS.escape(String(f.field).split('.').pop())}"]`);
    if (!control) continue;
    control.setAttribute('aria-invalid', 'true');
    const slot = control.closest('.field')?.querySelector('.field-error');
    if (slot) slot.textContent = fieldText(f);
  }
}
