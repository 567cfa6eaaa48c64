// Users: the list, and creating one with a role (floor staff are bound to one warehouse).
import { h, fill, field, select } from '../dom.js';
import { t, label } from '../i18n/index.js';
import { get, getAll, seg } from '../api.js';
import { perform } from '../actions.js';
import { table, sectionTitle } from '../components.js';
import { confirmDialog, promptDialog } from '../dialog.js';
import * as places from '../places.js';
import { fmtTime } from '../format.js';

const ROLES = ['floor', 'supervisor', 'admin'];
/** What the server asks of a password (flows::users::check_password_strength). */
const MIN_PASSWORD = 10;

export default {
  title: 'nav.users',
  roles: ['admin'],
  async render(ctx) {
    const [items, whs, throttled] = await Promise.all([
      getAll('/users'), places.warehouses().catch(() => []), get('/throttles').catch(() => ({ items: [] })),
    ]);
    if (!ctx.alive()) return;

    // Deactivating signs the user out everywhere; so does a new password.
    async function change(u, body, button, okText) {
      const res = await perform({
        method: 'PATCH', path: `/users/${seg(u.username)}`, body, button, direct: true,
        label: { k: 'op.user_change', v: { username: u.username } }, okText,
      });
      if (res) ctx.refresh();
    }
    async function setActive(u, active, button) {
      if (!active) {
        const sure = await confirmDialog({
          title: t('users.deactivate_title', { username: u.username }),
          body: t('users.deactivate_body'), okText: t('users.deactivate'), danger: true,
        });
        if (!sure) return;
      }
      await change(u, { active }, button, t(active ? 'users.activated' : 'users.deactivated', { username: u.username }));
    }
    async function resetPassword(u, button) {
      const password = await promptDialog({
        title: t('users.reset_title', { username: u.username }), body: t('users.reset_body'),
        inputLabel: t('users.new_password'), okText: t('users.reset'), secret: true, minLength: MIN_PASSWORD,
      });
      if (password === null) return;
      await change(u, { password }, button, t('users.reset_done', { username: u.username }));
    }
    const mine = ctx.me.username;
    const list = table([
      { title: t('users.username'), render: (u) => h('span', { class: 'code' }, u.username) },
      { title: t('users.role'), render: (u) => label('role', u.role) },
      { title: t('common.warehouse'), render: (u) => u.warehouse || '—' },
      { title: t('users.status'), render: (u) => h('span', { class: ['badge', u.active ? 'user-active' : 'user-inactive'], 'data-active': String(u.active) }, t(u.active ? 'users.active' : 'users.inactive')) },
      {
        title: t('users.actions'),
        render: (u) => h('div', { class: 'button-row' },
          u.username === mine ? null : h('button', {
            type: 'button', class: ['btn small', u.active ? 'danger' : 'secondary'], 'data-action': u.active ? 'deactivate' : 'activate',
            onclick: (e) => setActive(u, !u.active, e.currentTarget),
          }, t(u.active ? 'users.deactivate' : 'users.activate')),
          h('button', {
            type: 'button', class: 'btn small secondary', 'data-action': 'reset-password',
            onclick: (e) => resetPassword(u, e.currentTarget),
          }, t('users.reset'))),
      },
    ], items, { rowAttrs: (u) => ({ 'data-testid': `user-${u.username}` }) });

    // Sign-ins being slowed down after failures, per user and address; an admin lets one
    // through at once (e.g. a worker who mistyped, calling from the floor).
    async function clearThrottle(th, button) {
      const res = await perform({
        method: 'DELETE', path: `/throttles/${seg(th.username)}?client=${encodeURIComponent(th.client)}`, button, direct: true,
        label: { k: 'op.throttle_clear', v: { username: th.username } },
        okText: t('throttles.cleared', { username: th.username, client: th.client }),
      });
      if (res) ctx.refresh();
    }
    const now = Date.now();
    const throttles = table([
      { title: t('users.username'), render: (th) => h('span', { class: 'code' }, th.username) },
      { title: t('throttles.client'), render: (th) => h('span', { class: 'code' }, th.client) },
      { title: t('throttles.failures'), render: (th) => String(th.failures) },
      {
        title: t('throttles.waits_until'),
        render: (th) => (new Date(th.delayed_until).getTime() > now ? fmtTime(th.delayed_until) : t('throttles.no_wait')),
      },
      {
        title: t('users.actions'),
        render: (th) => h('button', {
          type: 'button', class: 'btn small secondary', 'data-action': 'clear-throttle',
          onclick: (e) => clearThrottle(th, e.currentTarget),
        }, t('throttles.clear')),
      },
    ], throttled?.items || [], { empty: t('throttles.none'), rowAttrs: (th) => ({ 'data-testid': `throttle-${th.username}` }) });

    const role = select({ id: 'user-role', name: 'role' }, ROLES.map((r) => ({ value: r, label: label('role', r) })), 'floor');
    const warehouse = select({ id: 'user-warehouse', name: 'warehouse' },
      [{ value: '', label: t('users.no_warehouse') }, ...whs.map((w) => ({ value: w.code, label: `${w.code} ${w.name || ''}` }))], whs[0]?.code || '');
    const warehouseField = field(t('common.warehouse'), warehouse, t('users.warehouse_hint'));
    const sync = () => {
      warehouse.required = role.value === 'floor';
    };
    role.addEventListener('change', sync);
    sync();

    const password = h('input', { id: 'user-password', name: 'password', type: 'password', required: true, minlength: MIN_PASSWORD, autocomplete: 'new-password' });
    const button = h('button', { type: 'submit', class: 'btn primary', id: 'user-create', 'data-action': 'create' }, t('common.create'));
    const form = h('form', {
      class: 'card form-grid', id: 'user-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const fd = new FormData(form);
        const body = {
          username: String(fd.get('username')).trim(),
          role: fd.get('role'),
          warehouse: fd.get('warehouse') || null,
          password: String(fd.get('password')),
        };
        const res = await perform({
          path: '/users', body, form, button, direct: true,
          label: { k: 'op.user_create', v: { username: body.username } }, okText: t('users.created', { username: body.username }),
        });
        if (res) ctx.refresh();
      },
    },
    sectionTitle(t('users.new')),
    field(t('users.username'), h('input', { id: 'user-username', name: 'username', required: true, autocomplete: 'off', spellcheck: 'false' })),
    field(t('users.role'), role),
    warehouseField,
    field(t('users.password'), password, t('users.password_hint')),
    h('div', { class: 'filter-buttons' }, button));

    fill(ctx.view, h('h1', {}, t('nav.users')), list,
      h('section', { id: 'throttles', 'aria-labelledby': 'throttles-title' },
        sectionTitle(t('throttles.title')), h('p', { class: 'hint' }, t('throttles.intro')), throttles),
      form);
  },
};
