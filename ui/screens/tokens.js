// Access tokens: scripts and customs systems call the API with a bearer token. A user lists,
// makes and revokes their own (an admin sees everybody's). Making one asks for the password
// again; the token is shown once. Signing out does not end tokens, and the screen says so.
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, seg } from '../api.js';
import { perform } from '../actions.js';
import { table, sectionTitle } from '../components.js';
import { confirmDialog } from '../dialog.js';
import { fmtTime } from '../format.js';

/** What the server allows (BR_TOKEN_DAYS, 90 by default). */
const DEFAULT_DAYS = 90;

/** A token just made, shown (once) when the screen is drawn again with it in the list. */
let justMade = null;

export default {
  title: 'nav.tokens',
  roles: ['floor', 'supervisor', 'admin'],
  async render(ctx) {
    const listed = await get('/tokens');
    if (!ctx.alive()) return;
    const items = listed?.items || [];
    const admin = ctx.me.role === 'admin';

    async function revoke(tk, button) {
      const sure = await confirmDialog({
        title: t('tokens.revoke_title', { name: tk.name }),
        body: t('tokens.revoke_body'), okText: t('tokens.revoke'), danger: true,
      });
      if (!sure) return;
      const res = await perform({
        method: 'DELETE', path: `/tokens/${seg(tk.id)}`, button, direct: true, context: 'token',
        label: { k: 'op.token_revoke', v: { name: tk.name } }, okText: t('tokens.revoked', { name: tk.name }),
      });
      if (res) ctx.refresh();
    }

    const list = table([
      { title: t('tokens.name'), render: (tk) => tk.name },
      admin ? { title: t('users.username'), render: (tk) => h('span', { class: 'code' }, tk.username) } : null,
      { title: t('tokens.scope'), render: (tk) => h('span', { class: 'badge', 'data-scope': tk.scope }, label('scope', tk.scope)) },
      { title: t('tokens.created'), render: (tk) => fmtTime(tk.created_at) },
      { title: t('tokens.expires'), render: (tk) => fmtTime(tk.expires_at) },
      {
        title: t('users.actions'),
        render: (tk) => h('button', {
          type: 'button', class: 'btn small danger', 'data-action': 'revoke-token',
          onclick: (e) => revoke(tk, e.currentTarget),
        }, t('tokens.revoke')),
      },
    ].filter(Boolean), items, { empty: t('tokens.none'), rowAttrs: (tk) => ({ 'data-testid': `token-${tk.id}` }) });

    // The new token, shown once.
    const shown = h('div', { id: 'token-shown', 'aria-live': 'polite' });
    function showToken(data) {
      const value = h('input', {
        id: 'token-value', class: 'code', readonly: true, value: data.token, 'aria-label': t('tokens.value'),
        onfocus: (e) => e.currentTarget.select(),
      });
      const copy = h('button', {
        type: 'button', class: 'btn small secondary', 'data-action': 'copy-token',
        onclick: async () => {
          value.select();
          try {
            await navigator.clipboard.writeText(data.token);
            copy.textContent = t('tokens.copied');
          } catch {
            copy.textContent = t('tokens.copy_by_hand');
          }
        },
      }, t('tokens.copy'));
      fill(shown, h('div', { class: 'card notice' },
        h('h2', {}, t('tokens.made', { name: data.name })),
        h('p', {}, t('tokens.shown_once')),
        h('div', { class: 'button-row' }, value, copy)));
      value.focus();
    }

    const scopes = ctx.me.role === 'floor' ? ['full'] : ['full', 'customs'];
    const scope = select({ id: 'token-scope', name: 'scope' }, scopes.map((s) => ({ value: s, label: label('scope', s) })), 'full');
    const days = h('input', { id: 'token-days', name: 'days', type: 'number', min: 1, max: DEFAULT_DAYS, step: 1, value: DEFAULT_DAYS, required: true, inputmode: 'numeric' });
    const password = h('input', { id: 'token-password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
    const button = h('button', { type: 'submit', class: 'btn primary', id: 'token-create', 'data-action': 'create-token' }, t('tokens.create'));
    const form = h('form', {
      class: 'card form-grid', id: 'token-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const fd = new FormData(form);
        const body = {
          name: String(fd.get('name')).trim(),
          scope: fd.get('scope'),
          days: Number(fd.get('days')),
          password: String(fd.get('password')),
        };
        // Sent at once, never kept on the device: the body holds the password.
        const res = await perform({
          path: '/tokens', body, form, button, direct: true, context: 'token',
          label: { k: 'op.token_create', v: { name: body.name } }, okText: t('tokens.made', { name: body.name }),
        });
        password.value = '';
        if (res && res.data) {
          justMade = res.data;
          ctx.refresh();
        }
      },
    },
    sectionTitle(t('tokens.new')),
    field(t('tokens.name'), h('input', { id: 'token-name', name: 'name', required: true, maxlength: 64, autocomplete: 'off' }), t('tokens.name_hint')),
    field(t('tokens.scope'), scope, t('tokens.scope_hint')),
    field(t('tokens.days'), days),
    field(t('tokens.password'), password, t('tokens.password_hint')),
    h('div', { class: 'filter-buttons' }, button));

    fill(ctx.view,
      h('h1', {}, t('nav.tokens')),
      h('p', { class: 'hint', id: 'tokens-intro' }, t('tokens.intro')),
      list, shown, form);
    if (justMade) {
      showToken(justMade);
      justMade = null;
    }
  },
};
