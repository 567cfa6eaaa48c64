// The audit log as the story of a parcel: who, when, where, what changed (before → after),
// filterable, exportable as CSV, with the hash chain's state at the top.
import { h, fill, field, select } from '../dom.js';
import { t, label, getLang } from '../i18n/index.js';
import { get, seg, apiUrl, download } from '../api.js';
import { fmtSecond } from '../format.js';
import { navigate, hashWith } from '../router.js';
import { showError } from '../errors.js';
import { say } from '../feedback.js';
import { changesList, reasonText, footageLink, stepChanges } from '../returnparts.js';
import * as places from '../places.js';

// The server's action names (see the audit entries it writes); the filter matches them exactly.
const ACTIONS = ['return.apply', 'return.receive', 'return.sort', 'return.inspect', 'return.restock', 'return.dispose',
  'return.dispose_request', 'return.dispose_approve', 'return.dispose_reject', 'return.hold', 'return.release',
  'return.customs_receipt', 'declaration.record', 'declaration.receipt', 'enterprise.create', 'enterprise.rate',
  'warehouse.create', 'bin.create', 'camera.create', 'printer.create', 'printer.update', 'printer.delete', 'user.create', 'user.update', 'return.cancel',
  'token.create', 'token.revoke', 'throttle.clear', 'refused.enterprise_excluded'];
const FILTERS = ['search', 'from', 'to', 'warehouse', 'camera', 'enterprise', 'actor', 'action', 'entity'];

// The filter's times are China time, as the log shows them, whatever the device's zone.
function chinaToRfc3339(value) {
  return value ? `${value.length === 16 ? `${value}:00` : value}+08:00` : '';
}
function rfc3339ToChina(iso) {
  return iso ? fmtSecond(iso).slice(0, 19).replace(' ', 'T') : '';
}

function short(hash) {
  return hash ? `${String(hash).slice(0, 12)}…` : '—';
}

function chainState(v) {
  if (!v) return h('span', {}, t('audit.verifying'));
  if (v.ok) {
    return h('span', { class: 'chain-ok' },
      h('strong', {}, t('audit.chain_ok', { seq: v.head_seq ?? v.entries, n: v.entries })), ' ',
      h('span', { class: 'code', title: v.head }, t('audit.head', { hash: short(v.head) })));
  }
  return h('span', { class: 'chain-bad' },
    h('strong', {}, t('audit.chain_bad', { seq: v.first_bad_seq })), ' ', v.detail || '');
}

// A folder's trouble, when its worker is kept from its work.
function trouble(f) {
  return f.last_error ? h('p', { class: 'chain-bad', 'data-testid': 'folder-error' }, t('folders.trouble', { at: fmtSecond(f.error_at), error: f.last_error })) : null;
}

function foldersState(st) {
  const { inbox, outbox } = st;
  if (!inbox.configured && !outbox.configured) return [h('p', { class: 'muted', id: 'folders-off' }, t('folders.not_configured'))];
  const at = (f) => (f.scanned_at ? fmtSecond(f.scanned_at) : t('folders.never'));
  const parts = [];
  if (inbox.configured) {
    parts.push(h('p', { id: 'folders-inbox', class: inbox.failed_total ? 'chain-bad' : '' },
      t('folders.inbox', { waiting: inbox.waiting_total, failed: inbox.failed_total, at: at(inbox) })), trouble(inbox));
    // Each failed file with its reason as the site operator reads it in failed/.
    parts.push(...inbox.failed.map((f) => h('details', { class: 'folder-failed', 'data-file': f.name },
      h('summary', {}, h('span', { class: 'code' }, `failed/${f.name}`), ` · ${fmtSecond(f.failed_at)}`),
      h('pre', { class: 'folder-reason' }, f.reason || t('folders.no_reason')))));
    if (inbox.waiting.length) {
      parts.push(h('p', { class: 'muted', 'data-testid': 'folders-waiting' }, t('folders.waiting_files', { names: inbox.waiting.map((f) => f.name).join('、') })));
    }
  } else {
    parts.push(h('p', { class: 'muted' }, t('folders.inbox_off')));
  }
  if (outbox.configured) {
    parts.push(h('p', { id: 'folders-outbox', class: outbox.unwritten_total ? 'chain-bad' : '' },
      t('folders.outbox', { unwritten: outbox.unwritten_total, uncollected: outbox.uncollected_total, at: at(outbox) })), trouble(outbox));
    const waiting = [...outbox.unwritten, ...outbox.uncollected];
    if (waiting.length) {
      parts.push(h('ul', { class: 'folder-files' }, waiting.map((f) => h('li', { 'data-file': f.name },
        h('span', { class: 'code small-url' }, f.name), ' ',
        f.return_id ? h('a', { href: `#/r/${seg(f.return_id)}`, class: 'code' }, f.return_id) : null,
        ' ', h('span', { class: 'muted' }, f.written_at ? t('folders.written', { at: fmtSecond(f.written_at) }) : t('folders.not_written'))))));
    }
  } else {
    parts.push(h('p', { class: 'muted' }, t('folders.outbox_off')));
  }
  return [h('strong', {}, t('folders.title')), ...parts.filter(Boolean)];
}

function entry(e) {
  const isReturn = e.entity_kind === 'return';
  return h('li', { class: 'audit-entry', 'data-seq': e.seq, 'data-action': e.action, 'data-testid': `audit-${e.seq}` },
    h('div', { class: 'audit-head' },
      h('span', { class: 'seq' }, `#${e.seq}`),
      h('time', { datetime: e.at }, fmtSecond(e.at)),
      h('strong', {}, label('audit_action', e.action)),
      h('span', {}, `${e.actor || '—'}${e.role ? ` (${label('role', e.role)})` : ''}`)),
    h('div', { class: 'audit-where' },
      h('span', {}, `${label('entity', e.entity_kind)} `,
        isReturn ? h('a', { href: `#/r/${seg(e.entity_id)}`, class: 'code' }, e.entity_id) : h('span', { class: 'code' }, e.entity_id || '')),
      e.warehouse ? h('span', {}, `${t('common.warehouse')} ${e.warehouse}`) : null,
      e.area ? h('span', { 'data-field': 'area' }, `${t('audit.area')} ${label('area', e.area)}`) : null,
      e.bin ? h('span', { 'data-field': 'bin' }, `${t('audit.bin')} `, h('span', { class: 'code' }, e.bin)) : null,
      e.quantity !== null && e.quantity !== undefined ? h('span', { 'data-field': 'quantity' }, t('audit.quantity', { n: e.quantity })) : null,
      e.enterprise ? h('span', {}, `${t('audit.enterprise')} ${e.enterprise}`) : null),
    e.footage ? footageLink(e.footage) : null,
    changesList(e.footage ? stepChanges(e.changes) : e.changes),
    e.reason ? h('p', { class: 'audit-reason' }, `${t('common.reason')}: ${reasonText(e.reason)}`) : null,
    h('small', { class: 'muted audit-hash' },
      h('span', { title: e.hash }, `hash ${short(e.hash)}`), ' ← ',
      h('span', { title: e.prev_hash }, `prev ${short(e.prev_hash)}`),
      e.request_id ? ` · request ${e.request_id}` : ''));
}

export default {
  title: 'nav.audit',
  roles: ['supervisor', 'admin'],
  async render(ctx) {
    const q = Object.fromEntries(FILTERS.map((f) => [f, ctx.query[f] || '']));
    const whs = await places.warehouses().catch(() => []);
    if (!ctx.alive()) return;

    const chain = h('div', { id: 'chain-state', class: 'chain', 'data-testid': 'chain-state', 'aria-live': 'polite' }, chainState(null));
    const verifyBtn = h('button', { type: 'button', class: 'btn secondary', id: 'audit-verify', 'data-action': 'verify' }, t('audit.verify'));
    async function verify() {
      verifyBtn.disabled = true;
      fill(chain, chainState(null));
      try {
        const v = await get('/audit/verify');
        if (ctx.alive()) fill(chain, chainState(v));
      } catch (err) {
        fill(chain, h('span', { class: 'chain-bad' }, t('audit.verify_failed')));
        showError(err);
      } finally {
        verifyBtn.disabled = false;
      }
    }
    verifyBtn.addEventListener('click', verify);

    const input = (name, type = 'text') => h('input', {
      id: `audit-${name}`, name, type,
      value: type === 'datetime-local' ? rfc3339ToChina(q[name]) : q[name],
    });
    const form = h('form', {
      class: 'filters card', id: 'audit-filter',
      onsubmit: (e) => {
        e.preventDefault();
        const data = Object.fromEntries(new FormData(form));
        data.from = chinaToRfc3339(data.from);
        data.to = chinaToRfc3339(data.to);
        navigate(hashWith('/audit', data));
      },
    },
    field(t('audit.search'), h('input', { id: 'audit-q', name: 'search', value: q.search, autocomplete: 'off', spellcheck: 'false' }), t('audit.search_hint')),
    field(t('audit.from'), input('from', 'datetime-local')),
    field(t('audit.to'), input('to', 'datetime-local')),
    field(t('common.warehouse'), select({ id: 'audit-warehouse', name: 'warehouse' },
      [{ value: '', label: t('common.any') }, ...whs.map((w) => ({ value: w.code, label: w.code }))], q.warehouse)),
    field(t('audit.camera'), input('camera')),
    field(t('audit.enterprise'), input('enterprise')),
    field(t('audit.actor'), input('actor')),
    // Free text with suggestions: the server's action names are not a closed list.
    field(t('audit.action'), h('input', { id: 'audit-action', name: 'action', value: q.action, list: 'audit-actions', autocomplete: 'off' })),
    h('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => h('option', { value: a }, label('audit_action', a)))),
    field(t('audit.entity'), input('entity'), t('audit.entity_hint')),
    h('div', { class: 'filter-buttons' },
      h('button', { type: 'submit', class: 'btn primary', id: 'audit-search' }, t('common.search')),
      h('a', { class: 'btn ghost', href: '#/audit' }, t('common.clear'))));

    // Fetched rather than followed, so that a refusal is shown in words and a file cut at the
    // export's size limit says so. The CSV opens in any spreadsheet; the workbook has the same
    // rows with times as dates and numbers as numbers, never a formula.
    const exportButton = ({ id, action, file, label, done }) => {
      const query = { ...q, lang: getLang() };
      const saved = file.replace('export', 'audit');
      return h('a', {
        class: 'btn secondary', id, 'data-action': action, href: apiUrl(`/audit/${file}`, query), download: saved,
        onclick: async (e) => {
          e.preventDefault();
          try {
            const headers = await download(`/audit/${file}`, query, saved);
            if (headers.get('X-Truncated') === 'true') say(t('audit.export_truncated'), 'warn');
            else say(t(done), 'ok');
          } catch (err) {
            showError(err);
          }
        },
      }, t(label));
    };
    const exportLink = exportButton({ id: 'audit-export', action: 'export-csv', file: 'export.csv', label: 'audit.export', done: 'audit.exported' });
    const xlsxLink = exportButton({ id: 'audit-export-xlsx', action: 'export-xlsx', file: 'export.xlsx', label: 'audit.export_xlsx', done: 'audit.exported_xlsx' });
    const list = h('ol', { class: 'audit-list', id: 'audit-list' });
    const more = h('button', { type: 'button', class: 'btn secondary', id: 'more', 'data-action': 'more', hidden: true }, t('common.more'));

    // The customs client's folders: what waits, what failed and why, what customs has not
    // yet collected.
    const folders = h('div', { class: 'signed-head folders-status', id: 'folders-status', 'data-testid': 'folders-status' });
    get('/customs/folders').then((st) => {
      if (ctx.alive()) fill(folders, ...foldersState(st));
    }).catch(() => {});

    // What customs keeps: the installation's public key and the signed head, to check later
    // with `bonded-returns audit verify --expect-head … --public-key …`.
    const signed = h('div', { class: 'signed-head', id: 'signed-head' });
    Promise.all([get('/audit/key'), get('/audit/head'), get('/feed/status').catch(() => null)]).then(([key, head, feed]) => {
      if (!ctx.alive()) return;
      const push = !feed || !feed.configured
        ? h('p', { class: 'muted', id: 'feed-status' }, t('feed.not_configured'))
        : h('p', { id: 'feed-status', class: feed.failures ? 'chain-bad' : 'chain-ok' },
          t('feed.status', { seq: feed.delivered_seq, head: feed.head_seq, n: feed.lag_entries, s: feed.lag_seconds }),
          feed.failures ? ` ${t('feed.failing', { n: feed.failures, error: feed.last_error || '', next: fmtSecond(feed.next_try_at) })}` : '');
      fill(signed, push,
        h('p', {}, h('span', { class: 'muted' }, `${t('audit.public_key')} (Ed25519) `),
          h('code', { class: 'code small-url', id: 'public-key' }, key.public_key)),
        h('p', {}, h('span', { class: 'muted' }, `${t('audit.signed_head')} `),
          h('code', { class: 'code small-url', id: 'signed-expect-head' }, head.expect_head)));
    }).catch(() => {});

    fill(ctx.view,
      h('div', { class: 'page-head' }, h('h1', {}, t('nav.audit')), h('div', { class: 'button-row' }, exportLink, xlsxLink)),
      h('section', { class: 'card chain-card' }, chain, verifyBtn, signed, folders),
      form, list, more);

    let cursor = null;
    async function load() {
      more.disabled = true;
      try {
        const page = await get('/audit', { ...q, cursor, limit: 50 });
        if (!ctx.alive()) return;
        list.append(...page.items.map(entry));
        if (!list.childElementCount) list.append(h('li', { class: 'empty' }, t('common.empty')));
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (err) {
        showError(err);
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener('click', load);
    await Promise.all([verify(), load()]);
  },
};
